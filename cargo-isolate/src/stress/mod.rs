//! `cargo isolate stress`: builds the tests once, then runs them N times under load with each
//! runner, reads the results in structured form, and adds them up per test and runner.
//!
//! A demo adds per-round measurements with an [`Observer`]; `flake-report` counts the orphan
//! processes each round leaves behind this way.

mod build;
mod children;
mod kind;
pub mod libtest;
mod load;
pub mod nextest;
mod tally;

pub use build::{build, Binary, BuildSpec};
pub use kind::{classify, FailureKind};
pub use tally::{median, Stats, Tally};

use crate::cli::{Format, Runner, StressArgs};
use crate::workspace::{Error, Workspace};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// One test's result in one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// `binary::path` (the binary as its suite shows it).
    pub test: String,
    /// `None` when it passed.
    pub failure: Option<FailureKind>,
    /// Its time, when the runner reported one.
    pub time: Option<Duration>,
}

/// A round's outcomes, and the tests its deadline cut: still running, or not yet started.
#[derive(Debug, Default)]
struct Measured {
    outcomes: Vec<Outcome>,
    cut: Vec<String>,
}

impl Measured {
    /// Adds `outcome`; one the runner never reported in a round `cut` was cut.
    fn add(&mut self, outcome: Outcome, cut: bool) {
        if cut && outcome.failure == Some(FailureKind::Timeout) && outcome.time.is_none() {
            self.cut.push(outcome.test.clone());
        }
        self.outcomes.push(outcome);
    }

    fn extend(&mut self, other: Measured) {
        self.outcomes.extend(other.outcomes);
        self.cut.extend(other.cut);
    }
}

/// Test binaries run and reported together, under a label (empty for a single suite).
#[derive(Debug, Clone)]
pub struct Suite {
    /// Shown in tables and JSON (`found`, `migrated`); empty: not shown.
    pub label: String,
    /// Its binaries.
    pub binaries: Vec<Binary>,
    /// How each binary is named in test ids: its target name, or a shorter one.
    pub display: fn(&str) -> String,
}

/// One round: one runner over one suite.
#[derive(Debug, Clone)]
pub struct Round {
    /// 1-based.
    pub run: u32,
    /// The runner.
    pub runner: Runner,
    /// The suite's label.
    pub suite: String,
    /// Unique in this machine: `PID-run-runner-suite`.
    pub id: String,
}

/// Per-round hooks for a demo's own measurements.
pub trait Observer {
    /// Environment variables for every process of the round (e.g. a marker to find them).
    fn env(&mut self, _round: &Round) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Named counts measured after the round ended.
    fn after(&mut self, _round: &Round) -> Vec<(String, u64)> {
        Vec::new()
    }
}

/// No per-round measurements.
#[derive(Debug)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// How to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What cargo builds (nextest builds the same).
    pub build: BuildSpec,
    /// Rounds of every runner.
    pub runs: u32,
    /// The runners, in order.
    pub runners: Vec<Runner>,
    /// Test threads per binary, and nextest's `-j`.
    pub threads: u32,
    /// Busy threads beside the tests.
    pub load: usize,
    /// `ulimit -n` of the test processes.
    pub nofile: Option<u64>,
    /// Test name filters.
    pub filters: Vec<String>,
    /// A nextest profile to run with.
    pub nextest_profile: Option<String>,
    /// How long one binary (or one nextest run) may take before it is killed as hung.
    pub deadline: Duration,
}

/// Runs `plan` over `suites`, showing progress on stderr; stops early (keeping what was
/// measured) on Ctrl-C. A missing nextest is said once, and its rounds left out.
#[must_use]
pub fn run(plan: &Plan, suites: &[Suite], observer: &mut dyn Observer) -> Tally {
    children::on_interrupt_stop_children();
    let mut runners = plan.runners.clone();
    if runners.contains(&Runner::Nextest) && !nextest::installed() {
        eprintln!("warning: cargo-nextest is missing: its rounds are left out; install it with `cargo install cargo-nextest --locked`");
        runners.retain(|r| *r != Runner::Nextest);
    }
    let mut tally = Tally {
        suites: suites.iter().map(|s| s.label.clone()).collect(),
        ..Tally::default()
    };
    let rounds = u64::from(plan.runs) * (runners.len() * suites.len()) as u64;
    let bar = ProgressBar::new(rounds).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} rounds, {eta} left  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let _load = load::CpuLoad::start(plan.load);
    'rounds: for run in 1..=plan.runs {
        for &runner in &runners {
            for (index, suite) in suites.iter().enumerate() {
                if children::interrupted() {
                    break 'rounds;
                }
                let round = Round {
                    run,
                    runner,
                    suite: suite.label.clone(),
                    id: format!(
                        "{}-{run}-{}-{}",
                        std::process::id(),
                        runner.name(),
                        suite.label
                    ),
                };
                let env = observer.env(&round);
                let start = Instant::now();
                let Measured { outcomes, cut } = match runner {
                    Runner::Test => run_libtest(plan, suite, &env),
                    Runner::Concurrent => run_concurrent(plan, suite, &env),
                    Runner::Nextest => run_nextest(plan, suite, &env),
                };
                let wall = start.elapsed();
                if children::interrupted() {
                    break 'rounds;
                }
                let counters = observer.after(&round);
                let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
                let counted: Vec<String> = counters
                    .iter()
                    .map(|(name, n)| format!(", {n} {name}"))
                    .collect();
                say(
                    &bar,
                    format!(
                        "run {run}/{}: {:<10} {:<8} {} tests, {failed} failed{}, {:.1}s",
                        plan.runs,
                        runner.name(),
                        suite.label,
                        outcomes.len(),
                        counted.concat(),
                        wall.as_secs_f64()
                    ),
                );
                if !cut.is_empty() {
                    let note = cut_note(plan.deadline, runner, &suite.label, outcomes.len(), &cut);
                    say(&bar, format!("run {run}/{}: {note}", plan.runs));
                    tally.cut.push(format!("run {run}: {note}"));
                }
                tally.add(index, runner, outcomes, wall, counters);
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    if !tally.cut.is_empty() {
        eprintln!(
            "{} cut at the deadline of {}s: raise it with `--deadline SECS` or {DEADLINE_VAR}",
            if tally.cut.len() == 1 {
                "1 round was".to_owned()
            } else {
                format!("{} rounds were", tally.cut.len())
            },
            plan.deadline.as_secs()
        );
    }
    if children::interrupted() {
        eprintln!("interrupted: every child stopped; the results so far:");
    }
    tally
}

/// What a round cut at `deadline` says: which, how many tests finished, and the ones cut
/// (each once: two runs at once cut a test twice).
fn cut_note(
    deadline: Duration,
    runner: Runner,
    suite: &str,
    tests: usize,
    cut: &[String],
) -> String {
    const NAMED: usize = 10;
    let mut names = cut.to_vec();
    names.sort();
    names.dedup();
    let more = names.len().saturating_sub(NAMED);
    names.truncate(NAMED);
    let mut list = names.join(", ");
    if more > 0 {
        let _ = write!(list, " and {more} more");
    }
    let suite = if suite.is_empty() {
        String::new()
    } else {
        format!(" {suite}")
    };
    let per = if runner == Runner::Nextest {
        ""
    } else {
        " per binary"
    };
    format!(
        "{}{suite}: cut at its deadline of {}s{per}; {} of {tests} tests finished before it; \
         timed out, still running or not yet started: {list}",
        runner.name(),
        deadline.as_secs(),
        tests - cut.len(),
    )
}

/// Prints a line above the progress bar; without a terminal (CI logs) the bar is hidden and
/// would drop the line, so it goes to stderr as it is.
fn say(bar: &ProgressBar, line: String) {
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// A command that runs `program` under the plan's open-file limit.
fn limited(plan: &Plan, program: &std::ffi::OsStr, env: &[(String, String)]) -> Command {
    let mut command = match plan.nofile {
        Some(limit) => {
            let mut sh = Command::new("sh");
            sh.arg("-c")
                .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                .arg(program);
            sh
        }
        None => Command::new(program),
    };
    // Run from inside a runner (our own tests run under nextest), the suite must not inherit the
    // outer run's settings: its profile, run id and execution mode would change the inner run.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NEXTEST") {
            command.env_remove(name);
        }
    }
    command
        .env("RUST_BACKTRACE", "0")
        .envs(env.iter().map(|(k, v)| (k, v)));
    command
}

/// The suite's binaries one after another, as `cargo test` runs them.
fn run_libtest(plan: &Plan, suite: &Suite, env: &[(String, String)]) -> Measured {
    let mut measured = Measured::default();
    for binary in libtest_binaries(suite) {
        measured.extend(run_binary(plan, suite, binary, env));
    }
    measured
}

/// Two `cargo test` runs at once, each binary started twice at the same moment. Two runs that
/// go through the binaries on their own drift apart, and a short test rarely overlaps its twin
/// (tiny-http's fixed socket path collided 1 round in 20). Tests of different binaries meet
/// under nextest, which runs them all in one pool.
fn run_concurrent(plan: &Plan, suite: &Suite, env: &[(String, String)]) -> Measured {
    let mut measured = Measured::default();
    for binary in libtest_binaries(suite) {
        let together = std::sync::Barrier::new(2);
        let one = || {
            together.wait();
            run_binary(plan, suite, binary, env)
        };
        std::thread::scope(|scope| {
            let other = scope.spawn(one);
            measured.extend(one());
            measured.extend(other.join().unwrap_or_default());
        });
    }
    measured
}

/// The binaries that have tests to run.
fn libtest_binaries(suite: &Suite) -> impl Iterator<Item = &Binary> {
    suite.binaries.iter().filter(|b| !b.tests.is_empty())
}

/// One binary's tests, run by libtest.
fn run_binary(plan: &Plan, suite: &Suite, binary: &Binary, env: &[(String, String)]) -> Measured {
    let mut command = limited(plan, binary.path.as_os_str(), env);
    // Stable libtest shows each test's time only behind the unstable `--report-time`;
    // `RUSTC_BOOTSTRAP` unlocks it in the built binary and changes nothing else.
    command
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "--test-threads",
            &plan.threads.to_string(),
            "-Z",
            "unstable-options",
            "--report-time",
        ])
        .args(&plan.filters);
    let ran = children::run(command, plan.deadline);
    let reported = libtest::parse(&ran.stdout);
    let unreported = ran.unreported();
    let name = (suite.display)(&binary.target);
    let mut measured = Measured::default();
    for test in &binary.tests {
        let found = reported.iter().find(|o| o.test == *test).cloned();
        measured.add(named(&name, test, found, unreported), ran.killed);
    }
    measured
}

/// The outcome of `binary::test`: as reported, or failed as `unreported` when it was not.
fn named(binary: &str, test: &str, reported: Option<Outcome>, unreported: FailureKind) -> Outcome {
    let outcome = reported.unwrap_or(Outcome {
        test: String::new(),
        failure: Some(unreported),
        time: None,
    });
    Outcome {
        test: format!("{binary}::{test}"),
        ..outcome
    }
}

/// The suite under `cargo nextest run`: a process per test, each run once.
fn run_nextest(plan: &Plan, suite: &Suite, env: &[(String, String)]) -> Measured {
    let filter = suite
        .binaries
        .iter()
        .map(|b| format!("binary_id(={})", b.nextest_id))
        .collect::<Vec<_>>()
        .join(" | ");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = limited(plan, &cargo, env);
    command
        .env("NEXTEST_EXPERIMENTAL_LIBTEST_JSON", "1")
        .args([
            "nextest",
            "run",
            "--no-fail-fast",
            "--message-format",
            "libtest-json",
            "--cargo-quiet",
            "--color",
            "never",
            "-j",
        ])
        .arg(plan.threads.to_string())
        // One attempt per test and round, as under the other runners: a profile's retries
        // would hide the failures we count (a retried test passes), and name its later attempts
        // apart (`test#2` in the JSON, `TRY 2` lines) so that a round cut midway would read
        // them otherwise than one that ended.
        .args(["--retries", "0"])
        // Its stderr shows each test as it ends: all that is left of a round cut midway, whose
        // JSON nextest writes only at its end (a profile may have turned the lines off).
        .args(["--status-level", "pass"])
        .args(plan.build.cargo_args())
        .args(["-E", &filter]);
    if let Some(profile) = &plan.nextest_profile {
        command.args(["--profile", profile]);
    }
    command.arg("--").args(&plan.filters);
    let ran = children::run(command, plan.deadline);
    // A round cut at its deadline: the tests that ended before the cut, as they ended; the
    // others were cut (nextest reports them as failed by its signal, or not at all).
    let reported = if ran.killed {
        nextest::parse_human(ran.stderr_before_stop())
    } else {
        nextest::parse(&ran.stdout)
    };
    let unreported = ran.unreported();
    let mut measured = Measured::default();
    let mut missing = 0;
    for binary in &suite.binaries {
        let name = (suite.display)(&binary.target);
        let id = if ran.killed {
            binary.nextest_id.clone()
        } else {
            nextest::reported_id(binary)
        };
        for test in &binary.tests {
            let found = reported
                .iter()
                .find(|(reported, o)| *reported == id && o.test == *test)
                .map(|(_, o)| o.clone());
            missing += usize::from(found.is_none());
            measured.add(named(&name, test, found, unreported), ran.killed);
        }
    }
    if missing > 0 && !ran.killed {
        let lines: Vec<&str> = ran.stderr.lines().collect();
        eprintln!(
            "nextest did not report {missing} tests; its last lines:\n{}",
            lines[lines.len().saturating_sub(15)..].join("\n")
        );
    }
    measured
}

/// How long one binary (or one nextest run) may run in one round before it is cut, unless
/// `--deadline` or [`DEADLINE_VAR`] says otherwise.
pub const DEADLINE: Duration = Duration::from_secs(300);

/// The environment variable that sets the deadline in seconds, for `cargo isolate stress` and
/// the demos built on this engine.
pub const DEADLINE_VAR: &str = "CARGO_ISOLATE_DEADLINE";

/// `cargo isolate stress` from its parsed arguments.
///
/// # Errors
/// On usage errors, and when the build fails.
pub fn run_cli(args: &StressArgs) -> Result<ExitCode, Error> {
    if !(0.0..=1.0).contains(&args.max_rate) {
        return Err(Error::usage(format!(
            "`--max-rate {}`: expected a rate from 0 to 1 (0.001 is 0.1%)",
            args.max_rate
        )));
    }
    let workspace = Workspace::load(
        args.packages.manifest_path.as_deref(),
        &args.packages.package,
        args.packages.workspace,
    )?;
    let spec = BuildSpec {
        manifest_path: args.packages.manifest_path.clone(),
        packages: workspace.packages.clone(),
        features: args.features.clone(),
        tests: args.tests.clone(),
    };
    let binaries = build(&spec, &args.filters)?;
    if binaries.iter().all(|b| b.tests.is_empty()) {
        // Nothing would be measured, and a rate of nothing passes any gate.
        let filters: Vec<String> = args.filters.iter().map(|f| format!("`{f}`")).collect();
        return Err(Error::failed(if filters.is_empty() {
            "the chosen packages have no test to run".to_owned()
        } else {
            format!("no test matches {}", filters.join(" or "))
        }));
    }
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let plan = Plan {
        build: spec,
        runs: args.runs,
        runners: args.runner.clone(),
        threads: args.threads,
        load: args.load.unwrap_or(cores),
        nofile: args.nofile,
        filters: args.filters.clone(),
        nextest_profile: None,
        deadline: Duration::from_secs(args.deadline),
    };
    let suite = Suite {
        label: String::new(),
        binaries,
        display: str::to_owned,
    };
    let tally = run(&plan, &[suite], &mut NoObserver);
    match args.format {
        Format::Json => print!("{}", tally.json_lines()),
        Format::Human => print!("{}", tally.human()),
    }
    if children::interrupted() {
        // The shell's status for a run ended by SIGINT: what was cut short proves no rate.
        return Ok(ExitCode::from(130));
    }
    let above = tally.above(args.max_rate);
    if above.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for (test, runner, stats) in &above {
        eprintln!(
            "error: `{test}` failed {} of {} runs under {} ({:.2}%), above `--max-rate {}`",
            stats.failed,
            stats.runs,
            runner.name(),
            stats.rate() * 100.0,
            args.max_rate
        );
    }
    eprintln!(
        "{} above the rate: fix them (the table says how each failed), or raise `--max-rate` \
         to accept a rate",
        if above.len() == 1 {
            "1 test and runner".to_owned()
        } else {
            format!("{} tests and runners", above.len())
        }
    );
    Ok(ExitCode::from(1))
}
