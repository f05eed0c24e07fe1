//! The test's body means what it meant without `#[isolated]`: inner attributes, early
//! `return`, `?`, `ExitCode` and `impl Termination` returns, also when a temp dir makes the
//! guard observe the outcome (issue 14). Every failing outcome keeps the temp dir (issue 15
//! item 2), proven by child processes re-running the failing tests below.

mod support;

use std::fs;
use std::path::Path;
use std::process::{ExitCode, Termination};

use isolate::isolated;
use support::Log;

#[test]
#[isolated(tmpdir, serial = "body-verbatim")]
fn inner_attribute_with_a_result() -> Result<(), std::io::Error> {
    #![allow(unused_variables)]
    let never_read = 1;
    fs::write(tmpdir.join("f"), "x")
}

#[test]
#[isolated(tmpdir(data))]
fn early_return_and_question_mark() -> Result<(), std::io::Error> {
    fs::write(data.join("f"), "x")?;
    if fs::read_to_string(data.join("f"))? == "x" {
        return Ok(());
    }
    Err(std::io::Error::other(
        "unreachable: the early return above is taken",
    ))
}

#[test]
#[isolated(tmpdir, port)]
fn exit_code() -> ExitCode {
    if !tmpdir.path().is_dir() || port.port() == 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[test]
#[isolated(tmpdir)]
fn impl_termination() -> impl Termination {
    #![allow(clippy::unnecessary_wraps)]
    let written = fs::write(tmpdir.join("f"), "x");
    written.map_err(|error| error.to_string())
}

#[test]
#[isolated(port)]
fn unit_body_with_an_early_return() {
    #![allow(clippy::needless_return)]
    if port.port() != 0 {
        return;
    }
    panic!("the early return is taken");
}

#[isolated(tmpdir)]
#[tokio::test]
async fn async_result_with_inner_attribute() -> Result<(), std::io::Error> {
    #![allow(unused_variables)]
    let never_read = 1;
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(())
}

/// rstest's parameters, one of them a pattern, reach the body.
#[isolated(tmpdir)]
#[rstest::rstest]
#[case(1, (2, 3))]
fn parameters_reach_the_body(#[case] n: u8, #[case] (a, b): (u8, u8)) -> Result<(), String> {
    assert_eq!(n + a + b, 6);
    tmpdir
        .path()
        .is_dir()
        .then_some(())
        .ok_or_else(|| "no dir".to_owned())
}

fn record(dir: &Path) {
    Log::from_env().append(&dir.display().to_string());
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(tmpdir)]
fn fails_with_impl_termination() -> impl Termination {
    record(tmpdir.path());
    Err::<(), _>("the test failed")
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(tmpdir)]
fn fails_with_exit_code() -> ExitCode {
    record(tmpdir.path());
    ExitCode::FAILURE
}

#[test]
fn every_failing_outcome_keeps_the_dir() {
    for test in ["fails_with_impl_termination", "fails_with_exit_code"] {
        let root = support::private_root();
        let log = Log::new(root.path());
        let mut command = support::child_in(test, "run", root.path(), &log);
        let output = support::text(&support::run(&mut command, false));
        let dir = log.lines().first().cloned().unwrap_or_default();
        assert!(!dir.is_empty(), "{test}: {output}");
        assert!(Path::new(&dir).is_dir(), "{test} lost its dir: {output}");
        assert!(
            output.contains(&dir),
            "{test} did not print {dir}: {output}"
        );
    }
}
