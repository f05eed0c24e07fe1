//! Reads `cargo nextest run --message-format libtest-json` (nextest 0.9.x, behind
//! `NEXTEST_EXPERIMENTAL_LIBTEST_JSON=1`): one JSON object per line, tests named
//! `BINARY-ID$TEST`.

use super::kind::classify;
use super::Outcome;
use serde_json::Value;
use std::time::Duration;

/// `(binary id, outcome)` of every test event that ends a test; ignored tests left out.
#[must_use]
pub fn parse(output: &str) -> Vec<(String, Outcome)> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["type"] == "test")
        .filter_map(|v| {
            let (binary_id, test) = v["name"].as_str()?.split_once('$')?;
            let failure = match v["event"].as_str()? {
                "ok" => None,
                "failed" => Some(kind_of(test, v["stdout"].as_str().unwrap_or_default())),
                "timeout" => Some(super::FailureKind::Timeout),
                _ => return None,
            };
            let time = v["exec_time"].as_f64().map(Duration::from_secs_f64);
            Some(ended(binary_id, test, failure, time))
        })
        .collect()
}

/// The kind of `test`'s failure from its output.
fn kind_of(test: &str, output: &str) -> super::FailureKind {
    let kind = classify(test, output);
    // Older toolchains name the thread by the test's last segment only.
    if kind == super::FailureKind::PanicElsewhere {
        classify(test.rsplit("::").next().unwrap_or(test), output)
    } else {
        kind
    }
}

/// `(binary id, outcome)` of every test that nextest's human output (its stderr) shows ended:
/// `PASS [   0.007s] (1/3) BINARY-ID TEST`, a failure followed by its output. The JSON comes
/// out only when nextest ends; this comes out as each test ends, so it is what is left of a
/// run killed midway.
#[must_use]
pub fn parse_human(output: &str) -> Vec<(String, Outcome)> {
    let mut outcomes = Vec::new();
    // What follows each status line, up to the next: a failed test's output.
    let mut shown: Vec<String> = Vec::new();
    for line in output.lines() {
        if let Some(outcome) = status_line(line) {
            outcomes.push(outcome);
            shown.push(String::new());
        } else if let Some(text) = shown.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for ((_, outcome), text) in outcomes.iter_mut().zip(&shown) {
        if outcome.failure == Some(super::FailureKind::Other) && !text.is_empty() {
            outcome.failure = Some(kind_of(&outcome.test, text));
        }
    }
    outcomes
}

/// A line that says a test ended; a failure's kind is `Other` until its output is read (that
/// of a test ended by a signal stays so).
fn status_line(line: &str) -> Option<(String, Outcome)> {
    let (status, rest) = line.trim().split_once('[')?;
    let (time, rest) = rest.split_once(']')?;
    // The counter, `(1/4)`, is padded to the total's width: `( 1/12)`, `(  7/120)`.
    let rest = match rest.trim_start().strip_prefix('(') {
        Some(counted) => counted.split_once(')')?.1,
        None => rest,
    };
    let mut words = rest.split_whitespace();
    let binary_id = words.next()?;
    let test = words.next()?;
    let failure = match status.split_whitespace().last()? {
        "PASS" | "LEAK" => None,
        "TIMEOUT" => Some(super::FailureKind::Timeout),
        "FAIL" | "LEAK-FAIL" | "ABORT" => Some(super::FailureKind::Other),
        signal if signal.starts_with("SIG") => Some(super::FailureKind::Other),
        _ => return None,
    };
    let time = time
        .trim()
        .strip_suffix('s')
        .and_then(|t| t.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    Some(ended(binary_id, test, failure, time))
}

fn ended(
    binary_id: &str,
    test: &str,
    failure: Option<super::FailureKind>,
    time: Option<Duration>,
) -> (String, Outcome) {
    let test = test.to_owned();
    (
        binary_id.to_owned(),
        Outcome {
            test,
            failure,
            time,
        },
    )
}

/// The binary id that nextest's libtest-json gives `binary`'s tests: its binary id, except
/// that a library's (id `sample`) is written with its target name (`sample::sample`).
#[must_use]
pub fn reported_id(binary: &super::Binary) -> String {
    if binary.nextest_id.contains("::") {
        binary.nextest_id.clone()
    } else {
        format!("{}::{}", binary.nextest_id, binary.target)
    }
}

/// Whether `cargo nextest` runs here.
#[must_use]
pub fn installed() -> bool {
    std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::FailureKind;

    #[test]
    fn reads_a_captured_run() {
        let outcomes = parse(include_str!(
            "../../tests/captured/nextest-libtest-json.jsonl"
        ));
        let by_name = |n: &str| &outcomes.iter().find(|(_, o)| o.test == n).unwrap().1;
        assert_eq!(
            outcomes.len(),
            4,
            "started and ignored events are no runs: {outcomes:?}"
        );
        assert!(outcomes.iter().all(|(binary, _)| binary == "sample::pair"));
        assert_eq!(by_name("clean").failure, None);
        assert_eq!(
            by_name("collides_b").failure,
            Some(FailureKind::AddressInUse)
        );
        assert_eq!(by_name("wrong").failure, Some(FailureKind::WrongData));
        assert!(by_name("collides_a").time.unwrap() >= Duration::from_millis(150));
    }

    /// What nextest wrote on stderr before it was killed at a deadline (0.9.143).
    #[test]
    fn reads_the_human_lines_of_a_killed_run() {
        let text = "────────────\n \
            Nextest run ID 0ba2646b with nextest profile: default\n    \
            Starting 4 tests across 2 binaries\n        \
            PASS [   0.007s] (1/4) generated::pair quick_a\n        \
            FAIL [   0.010s] (2/4) generated generated::tests::broken\n  \
            stdout ───\n\n    running 1 test\n  \
            stderr ───\n\n    \
            thread 'generated::tests::broken' (12) panicked at src/lib.rs:3:5:\n    \
            Os { code: 98, kind: AddrInUse }\n        \
            SLOW [> 15.000s] generated::pair hangs\n     \
            SIGSEGV [   0.306s] (3/4) generated::pair crashes\n";
        let outcomes = parse_human(text);
        let named: Vec<(&str, &str, Option<FailureKind>)> = outcomes
            .iter()
            .map(|(binary, o)| (binary.as_str(), o.test.as_str(), o.failure))
            .collect();
        assert_eq!(
            named,
            [
                ("generated::pair", "quick_a", None),
                (
                    "generated",
                    "generated::tests::broken",
                    Some(FailureKind::AddressInUse)
                ),
                ("generated::pair", "crashes", Some(FailureKind::Other)),
            ],
            "a failure's kind from the output under it; a slow test has not ended yet: {outcomes:?}"
        );
        let time = outcomes[0].1.time.unwrap();
        assert!(time.as_micros().abs_diff(7000) <= 1, "{time:?}");
    }

    /// nextest pads the counter to the width of the total: `( 1/12)`, `(  7/120)` (0.9.143).
    #[test]
    fn reads_the_human_lines_of_a_run_with_a_padded_counter() {
        let text = "        PASS [   0.005s] ( 1/12) nxc t1\n        \
            FAIL [   0.006s] (  7/120) nxc::pair t7\n        \
            PASS [   0.005s] (12/12) nxc t12\n";
        let named: Vec<(String, String)> = parse_human(text)
            .into_iter()
            .map(|(binary, o)| (binary, o.test))
            .collect();
        let expected = [("nxc", "t1"), ("nxc::pair", "t7"), ("nxc", "t12")]
            .map(|(binary, test)| (binary.to_owned(), test.to_owned()));
        assert_eq!(named, expected);
    }
}
