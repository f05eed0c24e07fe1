//! `cargo isolate`: finds the tests of a crate that share what they must not (`audit`), and
//! measures a suite's flake rate under load (`stress`). `main.rs` only parses the command line
//! ([`cli`]) and calls these parts.

pub mod audit;
pub mod cli;
pub mod stress;
pub mod workspace;
