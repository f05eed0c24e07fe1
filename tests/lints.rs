//! The expansion is lint-clean in the user's crate: denied warnings, unused qualifications and
//! clippy's pedantic group (clippy runs on this file in CI with `-D warnings`).
#![deny(warnings, unused_qualifications, clippy::pedantic)]

use isolate::isolated;

#[test]
#[isolated(port, port6(v6), udp, reserved_port, tmpdir(a, b), serial = ["lints-a", "lints-b"], shared = "lints-c", max_sockets = 2, timeout = "1m30s")]
fn every_argument() {
    let _ = (
        port.port(),
        udp.port(),
        reserved_port.port(),
        a.path(),
        b.path(),
    );
    drop(v6);
}

#[test]
#[isolated(tmpdir)]
fn result_with_tmpdir() -> Result<(), std::io::Error> {
    std::fs::write(tmpdir.join("x"), "y")
}

#[test]
#[isolated(serial = "lints-unused")]
fn nothing_bound() {}

#[isolated(port)]
mod module {
    #[test]
    fn inherits() {
        let _ = port.addr();
    }
}

/// Issue 15 item 12: a single-expression body gets no `unused_braces` (rustc checks braces
/// written on one line, hence `rustfmt::skip`).
#[test]
#[isolated(port)]
#[rustfmt::skip]
fn single_expression_body() { assert!(port.port() > 0) }

#[test]
#[isolated(tmpdir)]
#[rustfmt::skip]
fn single_expression_result() -> Result<(), std::io::Error> { std::fs::write(tmpdir.join("x"), "y") }

#[isolated(port)]
mod single_expression_module {
    #[test]
    #[rustfmt::skip]
    fn inherits() { drop(port) }
}

/// An item first in a body the guard observes is first in its block: no pedantic
/// `items_after_statements` for the statements the expansion adds before it.
#[test]
#[isolated(tmpdir)]
fn observed_body_starting_with_an_item() -> Result<(), std::io::Error> {
    const NAME: &str = "x";
    std::fs::write(tmpdir.join(NAME), "y")
}
