//! Reads libtest's output (`cargo test`-style): its per-test lines `test NAME ... ok|FAILED|ignored`
//! (`test NAME - should panic ... ok` for a `#[should_panic]` test),
//! with `<0.021s>` when `--report-time` is on, and its `---- NAME stdout ----` failure sections.

use super::kind::classify;
use super::Outcome;
use std::time::Duration;

/// The outcome of every test the output reports (ignored ones left out).
#[must_use]
pub fn parse(text: &str) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for line in text.lines() {
        let Some((name, result)) = line
            .strip_prefix("test ")
            .and_then(|rest| rest.split_once(" ... "))
        else {
            continue;
        };
        let name = without_mode(name);
        let (status, time) = result.split_once(" <").unwrap_or((result, ""));
        let time = time
            .strip_suffix("s>")
            .and_then(|t| t.parse::<f64>().ok())
            .map(Duration::from_secs_f64);
        let failure = match status.trim() {
            "ok" => None,
            "FAILED" => Some(classify(name, section(text, name))),
            _ => continue,
        };
        outcomes.push(Outcome {
            test: name.to_owned(),
            failure,
            time,
        });
    }
    outcomes
}

/// A test's name without the mode libtest writes after it (`test NAME - should panic ... ok`;
/// doctests' `- compile fail` and `- compile`), and without the padding of a benchmark's.
fn without_mode(name: &str) -> &str {
    const MODES: [&str; 3] = [" - should panic", " - compile fail", " - compile"];
    MODES
        .iter()
        .find_map(|mode| name.strip_suffix(mode))
        .unwrap_or(name)
        .trim_end()
}

/// The captured output of a failed test: after `---- NAME stdout ----`, up to the next section.
fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let header = format!("---- {name} stdout ----");
    let Some(start) = text.find(&header) else {
        return "";
    };
    let rest = &text[start + header.len()..];
    let end = rest
        .find("\n---- ")
        .or_else(|| rest.find("\nfailures:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::FailureKind;

    #[test]
    fn reads_a_captured_run() {
        let outcomes = parse(include_str!("../../tests/captured/libtest-pair.txt"));
        let by_name = |n: &str| outcomes.iter().find(|o| o.test == n).unwrap();
        assert_eq!(
            outcomes.len(),
            4,
            "the ignored test is no run: {outcomes:?}"
        );
        assert_eq!(by_name("clean").failure, None);
        assert_eq!(by_name("collides_a").failure, None);
        assert_eq!(
            by_name("collides_b").failure,
            Some(FailureKind::AddressInUse)
        );
        assert_eq!(by_name("wrong").failure, Some(FailureKind::WrongData));
    }

    #[test]
    fn reads_report_time() {
        let outcomes = parse(include_str!("../../tests/captured/libtest-report-time.txt"));
        let collides = outcomes.iter().find(|o| o.test == "collides_a").unwrap();
        assert!(
            collides.time.unwrap() >= Duration::from_millis(150),
            "{collides:?}"
        );
        assert!(outcomes.iter().all(|o| o.time.is_some()));
    }

    /// libtest writes a test's mode between its name and its result; the name is the test's
    /// name without it, as listed, as in its failure section.
    #[test]
    fn a_test_mode_is_not_part_of_the_name() {
        let text = "test parse_off_int - should panic ... ok\n\
                    test did_not_panic - should panic ... FAILED\n\
                    test src/lib.rs - Config::get (line 10) - compile fail ... ok\n\
                    test src/lib.rs - run (line 20) - compile ... ok\n\
                    test plain ... ok\n\
                    \n\
                    failures:\n\
                    \n\
                    ---- did_not_panic stdout ----\n\
                    note: test did not panic as expected\n";
        let outcomes = parse(text);
        let names: Vec<&str> = outcomes.iter().map(|o| o.test.as_str()).collect();
        assert_eq!(
            names,
            [
                "parse_off_int",
                "did_not_panic",
                "src/lib.rs - Config::get (line 10)",
                "src/lib.rs - run (line 20)",
                "plain"
            ]
        );
        assert!(outcomes[1].failure.is_some());
    }
}
