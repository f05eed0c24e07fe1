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
                "failed" | "timeout" => {
                    let own = test.rsplit("::").next().unwrap_or(test);
                    let stdout = v["stdout"].as_str().unwrap_or_default();
                    let kind = if v["event"] == "timeout" {
                        super::FailureKind::Timeout
                    } else {
                        classify(test, stdout)
                    };
                    // Older toolchains name the thread by the test's last segment only.
                    Some(if kind == super::FailureKind::PanicElsewhere {
                        classify(own, stdout)
                    } else {
                        kind
                    })
                }
                _ => return None,
            };
            let time = v["exec_time"].as_f64().map(Duration::from_secs_f64);
            Some((
                binary_id.to_owned(),
                Outcome {
                    test: test.to_owned(),
                    failure,
                    time,
                },
            ))
        })
        .collect()
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
}
