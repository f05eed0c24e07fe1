//! The command line, declared with clap: every choice is a typed enum.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Find the tests that share what they must not, and measure a suite's flake rate under load.
#[derive(Debug, Parser)]
#[command(name = "cargo-isolate", bin_name = "cargo isolate", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read every test with syn and report each offender: fixed ports, released ports, fixed
    /// paths, process-only locks, sleeps that wait, process-wide state, servers started once per
    /// process; also in the helpers a test calls, in its file or another, reported on the test.
    Audit(AuditArgs),
    /// Build the tests once, run them N times under load with several runners, and report
    /// each test's flake rate and failure kinds.
    Stress(StressArgs),
}

/// Which packages.
#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Path to Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package to work on (repeatable); default: the workspace's default members.
    #[arg(short, long = "package", value_name = "PKG")]
    pub package: Vec<String>,
    /// Every member of the workspace.
    #[arg(long, conflicts_with = "package")]
    pub workspace: bool,
}

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Human,
    /// JSON Lines, one object per line.
    Json,
}

/// `cargo isolate audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Which packages.
    #[command(flatten)]
    pub packages: PackageArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with status 1 when anything is found.
    #[arg(long)]
    pub deny: bool,
}

/// A way of running the suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Runner {
    /// `cargo test`-style: the test binaries one after another, T test threads each.
    Test,
    /// `cargo nextest run`: a process per test, each run once (a profile's `retries` are
    /// overridden: a retry would hide the failure the round counts).
    Nextest,
    /// Two `cargo test`-style runs at once (two CI jobs on one machine), each binary started
    /// twice at the same moment so that every test meets its twin.
    Concurrent,
}

impl Runner {
    /// The runner's name in tables and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Runner::Test => "test",
            Runner::Nextest => "nextest",
            Runner::Concurrent => "concurrent",
        }
    }
}

/// `cargo isolate stress`.
#[derive(Debug, Args)]
pub struct StressArgs {
    /// Which packages.
    #[command(flatten)]
    pub packages: PackageArgs,
    /// Space or comma separated list of features to build the tests with.
    #[arg(short = 'F', long, value_name = "FEATURES")]
    pub features: Vec<String>,
    /// Only the integration test target NAME (`tests/NAME.rs`), as `cargo test --test NAME`;
    /// repeat for more.
    #[arg(long = "test", value_name = "NAME")]
    pub tests: Vec<String>,
    /// Rounds of every runner.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Runners, comma separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Runner::Test, Runner::Nextest, Runner::Concurrent])]
    pub runner: Vec<Runner>,
    /// Test threads per binary, and nextest's `-j`.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub threads: u32,
    /// Busy threads beside the tests; default: one per core.
    #[arg(long, value_name = "N")]
    pub load: Option<usize>,
    /// Open-file limit of the test processes (`ulimit -n`).
    #[arg(long, value_name = "L", value_parser = clap::value_parser!(u64).range(16..))]
    pub nofile: Option<u64>,
    /// Highest flake rate (0 to 1) any test may have: above it, each such test is named and the
    /// exit status is 1. An interrupted run (Ctrl-C) exits 130.
    #[arg(long, default_value_t = 0.0, value_name = "R")]
    pub max_rate: f64,
    /// The deadline of a round, in seconds: of each test binary under `test` and `concurrent`,
    /// of the whole suite under `nextest`. At it the round is cut: its processes are stopped,
    /// the tests that finished keep their results, the ones still running or not yet started
    /// count as timed out. Raise it on a slow or busy machine.
    #[arg(long, value_name = "SECS", env = crate::stress::DEADLINE_VAR, default_value_t = crate::stress::DEADLINE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    pub deadline: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Test name filters, as for `cargo test`.
    #[arg(last = true, value_name = "TESTNAME-FILTERS")]
    pub filters: Vec<String>,
}
