//! The proof: `cargo isolate stress`'s engine applied to the offender suite, as found beside
//! migrated, under `cargo test`, `cargo nextest run` and two `cargo test` runs at once; it also
//! counts per round the database instances the database family started and the orphan server
//! processes left behind. `--help` lists the options.

use cargo_isolate::cli::Runner;
use cargo_isolate::stress::{self, BuildSpec, Observer, Plan, Round, Suite};
use clap::{Parser, ValueEnum};
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Runs the offender suite as found and migrated, N times under parallel load, and prints per
/// test its failures, their kinds, the flake rate and its median time, and per round the orphan
/// processes of the offender server it left behind (Linux; then stopped).
#[derive(Debug, Parser)]
#[command(name = "flake-report")]
struct Options {
    /// Rounds of every runner and form.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Runners, comma separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Runner::Test, Runner::Nextest, Runner::Concurrent])]
    runner: Vec<Runner>,
    /// Which form of the suite.
    #[arg(long, value_enum, default_value_t = Form::Both)]
    form: Form,
    /// Test threads per binary, and nextest's `-j`.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    threads: u32,
    /// The open-file limit every test process runs under.
    #[arg(long, default_value_t = 1024)]
    nofile: u64,
    /// The deadline of a round in seconds (of each test binary, or of the whole suite under
    /// nextest): at it the round is cut, and the tests still running or not yet started count
    /// as timed out. Raise it on a slow or busy machine.
    #[arg(long, value_name = "SECS", env = stress::DEADLINE_VAR, default_value_t = stress::DEADLINE.as_secs(), value_parser = clap::value_parser!(u64).range(1..))]
    deadline: u64,
}

/// The suite as found, as migrated, or both side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Form {
    Found,
    Migrated,
    Both,
}

/// Marks every process a round starts (children inherit it), so that its orphans can be told
/// from any other process on the machine.
const ROUND_VAR: &str = "ISOLATE_OFFENDER_ROUND";

/// Per round: how many database instances the database family started (the init counts itself
/// in a file), then the offender servers left running, counted and killed.
///
/// Each round is its own run for `isolate::Fixture`: a stand-in runner process (`sleep`) named
/// by `ISOLATE_RUN` lives for the round, and ending it makes the run's watcher stop the
/// migrated family's one database, as the end of a real `cargo test` would.
#[derive(Default)]
struct Rounds {
    runner: Option<std::process::Child>,
    starts: Option<PathBuf>,
}

impl Observer for Rounds {
    fn env(&mut self, round: &Round) -> Vec<(String, String)> {
        let starts = std::env::temp_dir().join(format!("isolate-offender-starts-{}", round.id));
        let _ = std::fs::remove_file(&starts);
        let mut env = vec![
            (ROUND_VAR.to_owned(), round.id.clone()),
            (
                "ISOLATE_OFFENDER_STARTS".to_owned(),
                starts.to_string_lossy().into_owned(),
            ),
        ];
        self.starts = Some(starts);
        self.runner = Command::new("sleep").arg("3600").spawn().ok();
        if let Some(runner) = &self.runner {
            env.push(("ISOLATE_RUN".to_owned(), runner.id().to_string()));
        }
        env
    }

    fn after(&mut self, round: &Round) -> Vec<(String, u64)> {
        if let Some(mut runner) = self.runner.take() {
            let _ = runner.kill();
            let _ = runner.wait();
            // The run ended: give its watcher (it looks once a second) time to stop the servers.
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end && round_servers(&round.id).is_some_and(|s| !s.is_empty()) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let started = self.starts.take().map_or(0, |starts| {
            let count = std::fs::read_to_string(&starts).map_or(0, |text| text.lines().count());
            let _ = std::fs::remove_file(&starts);
            count
        });
        let mut counters = vec![("database instances".to_owned(), started as u64)];
        if let Some(orphans) = round_servers(&round.id) {
            for pid in &orphans {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            counters.push(("orphan servers".to_owned(), orphans.len() as u64));
        }
        counters
    }
}

/// The pids of offender server processes carrying `round`'s marker. `None` where `/proc` is
/// missing.
fn round_servers(round: &str) -> Option<Vec<u32>> {
    let marker = format!("{ROUND_VAR}={round}\0");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let ours = std::fs::read_link(entry.path().join("exe"))
            .is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "initialising-server"))
            && std::fs::read(entry.path().join("environ"))
                .is_ok_and(|env| env.windows(marker.len()).any(|w| w == marker.as_bytes()));
        if ours {
            pids.push(pid);
        }
    }
    Some(pids)
}

fn main() -> ExitCode {
    let options = Options::parse();
    let build = BuildSpec {
        manifest_path: None,
        packages: vec!["isolate-offenders".to_owned()],
        features: vec!["as-found".to_owned()],
        tests: Vec::new(),
    };
    eprintln!("building the offender suite...");
    let binaries = match stress::build(&build, &[]) {
        Ok(binaries) => binaries,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let form = |label: &str, display: fn(&str) -> String| Suite {
        label: label.to_owned(),
        binaries: binaries
            .iter()
            .filter(|b| b.target.starts_with(&format!("{label}_")))
            .cloned()
            .collect(),
        display,
    };
    let found = form("found", |t| t.trim_start_matches("found_").to_owned());
    let migrated = form("migrated", |t| t.trim_start_matches("migrated_").to_owned());
    let suites = match options.form {
        Form::Found => vec![found],
        Form::Migrated => vec![migrated],
        Form::Both => vec![found, migrated],
    };
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    eprintln!(
        "{} runs x {:?} x {:?}, {} test threads, open-file limit {}, {cores} busy threads for load",
        options.runs, options.runner, options.form, options.threads, options.nofile
    );
    let plan = Plan {
        build,
        runs: options.runs,
        runners: options.runner,
        threads: options.threads,
        load: cores,
        nofile: Some(options.nofile),
        filters: Vec::new(),
        // Never stops early, and ends a hung offender quickly (`.config/nextest.toml`).
        nextest_profile: Some("offenders".to_owned()),
        deadline: Duration::from_secs(options.deadline),
    };
    let tally = stress::run(&plan, &suites, &mut Rounds::default());
    print!("{}", tally.human());
    ExitCode::SUCCESS
}
