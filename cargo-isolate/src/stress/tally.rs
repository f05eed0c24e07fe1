//! Adds up the rounds: per test, runner and suite its runs, failures, kinds and times; per
//! runner and suite the rounds' wall times and the observers' counters. Prints both outputs.

use super::{FailureKind, Outcome};
use crate::cli::Runner;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

/// One test's results under one runner and suite.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Executions.
    pub runs: usize,
    /// Failed executions.
    pub failed: usize,
    /// Failures by kind.
    pub kinds: BTreeMap<FailureKind, usize>,
    /// The times the runner reported.
    pub times: Vec<Duration>,
}

impl Stats {
    /// Failed executions over all executions.
    #[must_use]
    pub fn rate(&self) -> f64 {
        ratio(self.failed, self.runs)
    }
}

/// `(suite, runner)`: suites in the order given, then runners.
type Group = (usize, Runner);

/// Everything measured so far.
#[derive(Debug, Default)]
pub struct Tally {
    /// The suites' labels, in order.
    pub suites: Vec<String>,
    /// By `(test, runner, suite index)`.
    pub tests: BTreeMap<(String, Runner, usize), Stats>,
    /// Wall time of each round.
    pub walls: BTreeMap<Group, Vec<Duration>>,
    /// Each counter's value per round.
    pub counters: BTreeMap<(Group, String), Vec<u64>>,
    /// The rounds cut at their deadline, each said in a line.
    pub cut: Vec<String>,
}

impl Tally {
    /// Adds a round's outcomes.
    pub fn add(
        &mut self,
        suite: usize,
        runner: Runner,
        outcomes: Vec<Outcome>,
        wall: Duration,
        counters: Vec<(String, u64)>,
    ) {
        self.walls.entry((suite, runner)).or_default().push(wall);
        for (name, value) in counters {
            self.counters
                .entry(((suite, runner), name))
                .or_default()
                .push(value);
        }
        for outcome in outcomes {
            let stats = self.tests.entry((outcome.test, runner, suite)).or_default();
            stats.runs += 1;
            stats.times.extend(outcome.time);
            if let Some(kind) = outcome.failure {
                stats.failed += 1;
                *stats.kinds.entry(kind).or_default() += 1;
            }
        }
    }

    /// Each test and runner whose rate is above `max_rate`, and its stats: the highest rate
    /// first, then by name.
    #[must_use]
    pub fn above(&self, max_rate: f64) -> Vec<(&str, Runner, &Stats)> {
        let mut above: Vec<_> = self
            .tests
            .iter()
            .filter(|(_, stats)| stats.failed > 0 && stats.rate() > max_rate)
            .map(|((test, runner, _), stats)| (test.as_str(), *runner, stats))
            .collect();
        // Stable: equal rates keep the map's order (by name, then runner).
        above.sort_by(|a, b| b.2.rate().total_cmp(&a.2.rate()));
        above
    }

    /// One JSON object per test, runner (and suite, when named), one per line.
    #[must_use]
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for ((test, runner, suite), stats) in &self.tests {
            let kinds: serde_json::Map<String, serde_json::Value> = stats
                .kinds
                .iter()
                .map(|(k, n)| (k.name().to_owned(), json!(n)))
                .collect();
            let mut line = json!({
                "test": test,
                "runner": runner.name(),
                "runs": stats.runs,
                "failed": stats.failed,
                "rate": stats.rate(),
                "kinds": kinds,
                "median_seconds": median(&stats.times).map(|m| m.as_secs_f64()),
            });
            if !self.suites[*suite].is_empty() {
                line["suite"] = json!(self.suites[*suite]);
            }
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// Markdown tables: per test and runner (the suites side by side), then per runner and
    /// suite, then the counters.
    #[must_use]
    pub fn human(&self) -> String {
        let mut out = String::from("Per test: failed/runs (flake rate), kinds of failure, median time of the test:\n\n| test | runner |");
        let named = self.suites.iter().any(|s| !s.is_empty());
        for suite in &self.suites {
            let prefix = if named {
                format!("{suite}: ")
            } else {
                String::new()
            };
            let _ = write!(out, " {prefix}failed/runs | {prefix}kinds | {prefix}time |");
        }
        out.push_str("\n|---|---|");
        out.push_str(&"---:|---|---:|".repeat(self.suites.len()));
        out.push('\n');
        let mut rows: Vec<(&String, Runner)> = self.tests.keys().map(|(t, r, _)| (t, *r)).collect();
        rows.dedup();
        for (test, runner) in rows {
            let _ = write!(out, "| {test} | {} |", runner.name());
            for suite in 0..self.suites.len() {
                let _ = write!(
                    out,
                    " {} |",
                    cells(self.tests.get(&(test.clone(), runner, suite)))
                );
            }
            out.push('\n');
        }
        out.push_str("\n| runner |");
        if named {
            out.push_str(" suite |");
        }
        out.push_str(
            " test executions | failures | flake rate | median wall time per round |\n|---|",
        );
        out.push_str(if named { "---|" } else { "" });
        out.push_str("---:|---:|---:|---:|\n");
        for (&(suite, runner), walls) in &self.walls {
            let (runs, failed) = self
                .tests
                .iter()
                .filter(|((_, r, s), _)| *r == runner && *s == suite)
                .fold((0, 0), |(runs, failed), (_, t)| {
                    (runs + t.runs, failed + t.failed)
                });
            let _ = write!(out, "| {} |", runner.name());
            if named {
                let _ = write!(out, " {} |", self.suites[suite]);
            }
            let wall = median(walls).unwrap_or_default().as_secs_f64();
            let _ = writeln!(
                out,
                " {runs} | {failed} | {:.2}% | {wall:.1}s |",
                100.0 * ratio(failed, runs)
            );
        }
        if !self.counters.is_empty() {
            out.push_str("\n| runner | suite | counted per round | rounds | in all | most in one round |\n|---|---|---|---:|---:|---:|\n");
            for (((suite, runner), name), values) in &self.counters {
                let (sum, max) = (
                    values.iter().sum::<u64>(),
                    values.iter().max().copied().unwrap_or(0),
                );
                let _ = writeln!(
                    out,
                    "| {} | {} | {name} | {} | {sum} | {max} |",
                    runner.name(),
                    self.suites[*suite],
                    values.len()
                );
            }
        }
        if !self.cut.is_empty() {
            out.push_str("\nRounds cut at their deadline (their tests still running or not yet started count as timeouts; raise it with `--deadline SECS`):\n\n");
            for round in &self.cut {
                let _ = writeln!(out, "- {round}");
            }
        }
        out
    }
}

/// `failed/runs (rate) | kinds | median time`, or dashes where the test did not run.
fn cells(stats: Option<&Stats>) -> String {
    let Some(s) = stats else {
        return "- | | -".to_owned();
    };
    let kinds: Vec<String> = s
        .kinds
        .iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    let time = median(&s.times).map_or("-".to_owned(), |m| format!("{:.3}s", m.as_secs_f64()));
    format!(
        "{}/{} ({:.1}%) | {} | {time}",
        s.failed,
        s.runs,
        100.0 * s.rate(),
        kinds.join(", ")
    )
}

fn ratio(part: usize, whole: usize) -> f64 {
    let as_f64 = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
    as_f64(part) / as_f64(whole.max(1))
}

/// The median (the upper one of an even count).
#[must_use]
pub fn median(times: &[Duration]) -> Option<Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::FailureKind;

    fn outcome(test: &str, failed: bool) -> Outcome {
        Outcome {
            test: test.to_owned(),
            failure: failed.then_some(FailureKind::WrongData),
            time: None,
        }
    }

    /// Seen on dotenvy: seven parser tests failed, and only the first was named.
    #[test]
    fn every_test_above_the_rate_is_named_worst_first() {
        let mut tally = Tally::default();
        let round = |a: bool, b: bool| vec![outcome("a", a), outcome("b", b), outcome("c", false)];
        for (a, b) in [(true, true), (false, true), (false, false), (false, false)] {
            tally.add(0, Runner::Test, round(a, b), Duration::ZERO, Vec::new());
        }
        tally.add(
            0,
            Runner::Nextest,
            round(true, false),
            Duration::ZERO,
            Vec::new(),
        );
        let named = |max| {
            tally
                .above(max)
                .into_iter()
                .map(|(test, runner, stats)| (test, runner, stats.failed))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            named(0.0),
            [
                ("a", Runner::Nextest, 1),
                ("b", Runner::Test, 2),
                ("a", Runner::Test, 1)
            ]
        );
        assert_eq!(
            named(0.25),
            [("a", Runner::Nextest, 1), ("b", Runner::Test, 2)]
        );
        assert_eq!(named(1.0), []);
    }
}
