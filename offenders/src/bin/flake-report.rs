//! The proof: runs the offender suite as found and migrated, N times under parallel load, under
//! `cargo test`, `cargo nextest run` and two `cargo test` passes at once, and prints failures per
//! test, their kinds, rates and times, and the orphan server processes each round left behind.
//! `--help` lists the options.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const USAGE: &str = "\
flake-report: runs the offender suite as found and migrated, N times under parallel load, and
prints per test its failures, their kinds, the flake rate and its median time, and per round
the orphan processes of the offender server it left behind (Linux; then stopped).

usage: cargo run -p isolate-offenders --release --bin flake-report -- [OPTIONS]

options:
  --runs N          rounds of every runner and form (default 10)
  --runner LIST     `test` (cargo test: the binaries one after another), `nextest` (a process per
                    test), `concurrent` (two cargo test passes at once), `both` (test and nextest)
                    or `all`; several joined by commas (default all)
  --form FORM       `found`, `migrated` or `both` (default both)
  --threads T       test threads per binary, and nextest's -j (default 16)
  --nofile L        the open-file limit every test process runs under (default 1024)
  -h, --help        this text";

/// The runner label for two `cargo test` passes at once.
const CONCURRENT: &str = "2 x cargo test";

struct Options {
    runs: usize,
    runners: Vec<&'static str>,
    forms: Vec<&'static str>,
    threads: usize,
    nofile: usize,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        runs: 10,
        runners: vec!["cargo test", "nextest", CONCURRENT],
        forms: vec!["found", "migrated"],
        threads: 16,
        nofile: 1024,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("`{flag} {value}`: expected a whole number above 0"))
        };
        match flag.as_str() {
            "--runs" => options.runs = number()?,
            "--threads" => options.threads = number()?,
            "--nofile" => options.nofile = number()?,
            "--runner" => {
                options.runners = Vec::new();
                for name in value.split(',') {
                    options.runners.extend(match name {
                        "test" => &["cargo test"][..],
                        "nextest" => &["nextest"][..],
                        "concurrent" => &[CONCURRENT][..],
                        "both" => &["cargo test", "nextest"][..],
                        "all" => &["cargo test", "nextest", CONCURRENT][..],
                        _ => {
                            return Err(format!(
                                "`--runner {value}`: expected `test`, `nextest`, `concurrent`, \
                                 `both` (test and nextest) or `all`, or several joined by commas"
                            ));
                        }
                    });
                }
                let mut seen = std::collections::HashSet::new();
                options.runners.retain(|runner| seen.insert(*runner));
            }
            "--form" => {
                options.forms = match value.as_str() {
                    "found" => vec!["found"],
                    "migrated" => vec!["migrated"],
                    "both" => vec!["found", "migrated"],
                    _ => {
                        return Err(format!(
                            "`--form {value}`: expected `found`, `migrated` or `both`"
                        ));
                    }
                }
            }
            _ => {
                return Err(format!(
                    "unknown flag `{flag}`; expected `--runs`, `--runner`, `--form`, `--threads`, \
                     `--nofile` or `--help`"
                ));
            }
        }
    }
    Ok(options)
}

/// Whether `cargo nextest` runs, installing it from crates.io once when it is missing, so the
/// proof works on a fresh machine.
fn ensure_nextest() -> bool {
    let installed = || {
        Command::new("cargo")
            .args(["nextest", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if installed() {
        return true;
    }
    eprintln!("cargo-nextest is missing: installing it from crates.io (once; a few minutes)...");
    let status = Command::new("cargo")
        .args(["install", "cargo-nextest", "--locked"])
        .status();
    status.is_ok_and(|s| s.success()) && installed()
}

/// A test binary: its target name (`found_tcp`, ...), its path, and the tests it holds.
struct Binary {
    name: String,
    path: String,
    tests: Vec<String>,
}

/// The test binaries of the offender crate, by target name (`found_tcp`, `migrated_tcp`, ...).
fn build() -> Result<Vec<Binary>, String> {
    eprintln!("building the offender suite...");
    let output = Command::new("cargo")
        .args([
            "test",
            "-p",
            "isolate-offenders",
            "--features",
            "as-found",
            "--no-run",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err("building the offender suite failed".to_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |line: &str, after: &str, key: &str| -> Option<String> {
        let rest = &line[line.find(after)? + after.len()..];
        let start = rest.find(key)? + key.len();
        Some(rest[start..start + rest[start..].find('"')?].to_owned())
    };
    let mut binaries: Vec<(String, String)> = text
        .lines()
        .filter(|line| line.contains("\"executable\":\"/"))
        .filter_map(|line| {
            Some((
                field(line, "\"target\":", "\"name\":\"")?,
                field(line, "", "\"executable\":\"")?,
            ))
        })
        .filter(|(name, _)| name.starts_with("found_") || name.starts_with("migrated_"))
        .collect();
    binaries.sort();
    Ok(binaries
        .into_iter()
        .map(|(name, path)| {
            let listed = Command::new(&path)
                .args(["--list", "--format", "terse"])
                .output();
            let tests = listed
                .map(|o| {
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .filter_map(|line| line.strip_suffix(": test").map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            Binary { name, path, tests }
        })
        .collect())
}

/// Busy threads, one per core, until dropped.
struct CpuLoad(Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>);

impl CpuLoad {
    fn start() -> CpuLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        CpuLoad(stop, threads)
    }
}

impl Drop for CpuLoad {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        for thread in self.1.drain(..) {
            let _ = thread.join();
        }
    }
}

/// The failure's kind, from the test thread's own panic when it can be found (a server thread
/// that panicked silently is the cause, not the symptom the test saw), else from all output.
fn classify(test_name: &str, output: &str) -> &'static str {
    let marker = format!("thread '{test_name}' (");
    let own_panic = output.find(&marker).map_or(output, |start| {
        let rest = &output[start..];
        &rest[..rest
            .find("stack backtrace")
            .or_else(|| rest[1..].find("thread '").map(|i| i + 1))
            .unwrap_or(rest.len())]
    });
    let lowered = own_panic.to_lowercase();
    if lowered.contains("address already in use") || lowered.contains("addrinuse") {
        "address in use"
    } else if lowered.contains("too many open files") {
        "too many open files"
    } else if lowered.contains("connection refused") {
        "connection refused"
    } else if lowered.contains("connection reset") {
        "connection reset"
    } else if lowered.contains("poisonerror") {
        // Another test of the binary panicked holding its mutex: the cascade of a flake.
        "poisoned lock"
    } else if lowered.contains("timed out")
        || lowered.contains("timeout")
        || lowered.contains("would block")
    {
        "timeout"
    } else if lowered.contains("no such file") {
        "missing file"
    } else if ["another test", "assertion", "handshake failed", "left:"]
        .iter()
        .any(|s| lowered.contains(s))
    {
        "wrong data"
    } else {
        "other"
    }
}

/// `(test, failure kind or None, duration when the runner reports it)` for every test a run reported.
type Outcomes = Vec<(String, Option<&'static str>, Option<Duration>)>;

/// Marks every process a round starts (through the environment, which children inherit), so
/// that its orphans can be told from any other process on the machine.
const ROUND_VAR: &str = "ISOLATE_OFFENDER_ROUND";
static ROUND: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

fn limited(nofile: usize, program: &str, args: &[&str]) -> Command {
    let round = ROUND.lock().map(|r| r.clone()).unwrap_or_default();
    let mut command = Command::new("sh");
    command
        .env(ROUND_VAR, round)
        .envs(database::env())
        .env("RUST_BACKTRACE", "0")
        .arg("-c")
        .arg(format!("ulimit -n {nofile}; exec \"$0\" \"$@\""))
        .arg(program)
        .args(args);
    command
}

/// How long one test binary may run in one round before it is killed as hung.
const BINARY_DEADLINE: Duration = Duration::from_mins(1);

/// Runs the binaries of `form` one after another, as `cargo test` does, each with `threads` test
/// threads.
fn run_libtest(binaries: &[Binary], form: &str, options: &Options) -> Outcomes {
    binaries
        .iter()
        .filter(|binary| binary.name.starts_with(form))
        .flat_map(|binary| run_binary(binary, form, options))
        .collect()
}

/// Two `cargo test`-style passes over `form` at once, as when two CI jobs or a developer and CI
/// share a machine: every test runs twice per round.
fn run_concurrent(binaries: &[Binary], form: &str, options: &Options) -> Outcomes {
    std::thread::scope(|scope| {
        let other = scope.spawn(|| run_libtest(binaries, form, options));
        let mut outcomes = run_libtest(binaries, form, options);
        outcomes.extend(other.join().unwrap_or_default());
        outcomes
    })
}

/// Runs one test binary. Past `BINARY_DEADLINE` it is killed and its unreported tests count as
/// timeouts; tests it never reported otherwise count as crashed.
fn run_binary(binary: &Binary, form: &str, options: &Options) -> Outcomes {
    let threads = options.threads.to_string();
    let short = binary.name.trim_start_matches(form).trim_start_matches('_');
    // Stable libtest prints each test's time only behind its unstable `--report-time`;
    // `RUSTC_BOOTSTRAP` unlocks that flag in the already built binary and changes nothing else.
    let args = [
        "--test-threads",
        &threads,
        "-Z",
        "unstable-options",
        "--report-time",
    ];
    let spawned = limited(options.nofile, &binary.path, &args)
        .env("RUSTC_BOOTSTRAP", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let (text, hung) = match spawned {
        Ok(mut child) => {
            let pipes = (child.stdout.take(), child.stderr.take());
            let reader = std::thread::spawn(move || {
                let mut text = String::new();
                if let (Some(mut out), Some(mut err)) = pipes {
                    let _ = std::io::Read::read_to_string(&mut out, &mut text);
                    let _ = std::io::Read::read_to_string(&mut err, &mut text);
                }
                text
            });
            let deadline = Instant::now() + BINARY_DEADLINE;
            let mut hung = false;
            while matches!(child.try_wait(), Ok(None)) {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    hung = true;
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            (reader.join().unwrap_or_default(), hung)
        }
        Err(_) => (String::new(), false),
    };
    let mut outcomes = Vec::new();
    let mut reported = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.split_once(" ... ") else {
            continue;
        };
        // `ok <0.021s>` or `FAILED <0.140s>`.
        let (status, time) = result.split_once(" <").unwrap_or((result, ""));
        let seconds = time.strip_suffix("s>").and_then(|t| t.parse::<f64>().ok());
        let kind = (status != "ok")
            .then(|| classify(name, section(&text, &format!("---- {name} stdout ----"))));
        reported.push(name.to_owned());
        outcomes.push((
            format!("{short}::{name}"),
            kind,
            seconds.map(Duration::from_secs_f64),
        ));
    }
    for name in binary.tests.iter().filter(|name| !reported.contains(name)) {
        outcomes.push((
            format!("{short}::{name}"),
            Some(if hung { "timeout" } else { "crashed" }),
            None,
        ));
    }
    outcomes
}

/// The text after `header`, up to the next section.
fn section<'a>(text: &'a str, header: &str) -> &'a str {
    let Some(start) = text.find(header) else {
        return "";
    };
    let rest = &text[start + header.len()..];
    let end = rest
        .find("\n---- ")
        .or_else(|| rest.find("\nfailures:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Runs `form` under `cargo nextest run`: a process per test. Tests of the suite that nextest did
/// not report count as failures, and nextest's last lines are shown so the cause is visible.
fn run_nextest(binaries: &[Binary], form: &str, options: &Options) -> Outcomes {
    let filter = format!("binary(/^{form}_/)");
    let jobs = options.threads.to_string();
    let args = [
        "nextest",
        "run",
        "-p",
        "isolate-offenders",
        "--features",
        "as-found",
        "--profile",
        "offenders",
        "--no-fail-fast",
        "-j",
        &jobs,
        "-E",
        &filter,
        "--cargo-quiet",
        "--color",
        "never",
    ];
    let text = match limited(options.nofile, "cargo", &args).output() {
        Ok(output) => format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => format!("cannot run cargo: {error}"),
    };
    let lines: Vec<&str> = text.lines().collect();
    let mut outcomes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let status = trimmed.split_whitespace().next().unwrap_or_default();
        if !["PASS", "FAIL", "TIMEOUT", "SIGSEGV", "SIGABRT", "SIGKILL"].contains(&status)
            || !trimmed.contains("isolate-offenders::")
        {
            continue;
        }
        let mut words = trimmed.rsplit(' ');
        let (Some(name), Some(binary)) = (words.next(), words.next()) else {
            continue;
        };
        let binary = binary
            .trim_start_matches("isolate-offenders::")
            .trim_start_matches(form)
            .trim_start_matches('_');
        let test_id = format!("{binary}::{name}");
        // The final summary repeats failed tests' lines: count each test once per run.
        if !seen.insert(test_id.clone()) {
            continue;
        }
        let seconds = trimmed
            .split('[')
            .nth(1)
            .and_then(|t| t.split('s').next())
            .and_then(|t| t.trim().parse::<f64>().ok());
        let kind = match status {
            "PASS" => None,
            "TIMEOUT" => Some("timeout"),
            _ => Some(classify(name, &failure_block(&lines[index + 1..]))),
        };
        outcomes.push((test_id, kind, seconds.map(Duration::from_secs_f64)));
    }
    let mut missing = 0;
    for binary in binaries
        .iter()
        .filter(|binary| binary.name.starts_with(form))
    {
        let short = binary.name.trim_start_matches(form).trim_start_matches('_');
        for name in &binary.tests {
            let test_id = format!("{short}::{name}");
            if !seen.contains(&test_id) {
                missing += 1;
                outcomes.push((test_id, Some("not reported"), None));
            }
        }
    }
    if missing > 0 {
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        eprintln!("nextest did not report {missing} tests; its last lines:\n{tail}");
    }
    outcomes
}

/// The captured output nextest prints under a failed test's line, up to the next rule or test.
fn failure_block(lines: &[&str]) -> String {
    lines
        .iter()
        .take_while(|line| {
            let trimmed = line.trim_start();
            !trimmed.starts_with("────")
                && !["PASS ", "FAIL ", "TIMEOUT ", "SIGABRT "]
                    .iter()
                    .any(|s| trimmed.starts_with(s))
        })
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// The offender server processes this round started that are still alive after it ended:
/// counted, then killed, so the next round starts clean. Only processes of our own server
/// binary carrying this round's marker are touched. `None` where `/proc` is missing.
fn stop_orphans(round: &str) -> Option<usize> {
    let marker = format!("{ROUND_VAR}={round}\0");
    let entries = std::fs::read_dir("/proc").ok()?;
    let mut orphans = 0;
    for entry in entries.flatten() {
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
            orphans += 1;
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
    Some(orphans)
}

#[derive(Default)]
struct Tally {
    runs: usize,
    failures: usize,
    kinds: BTreeMap<&'static str, usize>,
    times: Vec<Duration>,
}

fn main() {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    };
    if options.runners.contains(&"nextest") && !ensure_nextest() {
        eprintln!(
            "error: cargo-nextest is missing and could not be installed; install it with \
             `cargo install cargo-nextest --locked`, or pass `--runner test`"
        );
        std::process::exit(2);
    }
    let binaries = match build() {
        Ok(binaries) => binaries,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::exit(1);
        }
    };
    eprintln!(
        "{} runs x {:?} x {:?}, {} test threads, open-file limit {}, {} busy threads for load",
        options.runs,
        options.runners,
        options.forms,
        options.threads,
        options.nofile,
        std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
    );
    let mut tallies: BTreeMap<(String, &str, &str), Tally> = BTreeMap::new();
    let mut walls: BTreeMap<(&str, &str), Vec<Duration>> = BTreeMap::new();
    let mut orphans: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut instances: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let load = CpuLoad::start();
    let began = Instant::now();
    let rounds = u32::try_from(options.runs * options.runners.len() * options.forms.len())
        .unwrap_or(u32::MAX);
    let mut done = 0u32;
    for run in 1..=options.runs {
        for &runner in &options.runners {
            for &form in &options.forms {
                let round = format!("{}-{run}-{runner}-{form}", std::process::id());
                if let Ok(mut current) = ROUND.lock() {
                    current.clone_from(&round);
                }
                let database = database::Round::start(&round);
                let start = Instant::now();
                let outcomes = match runner {
                    "nextest" => run_nextest(&binaries, form, &options),
                    CONCURRENT => run_concurrent(&binaries, form, &options),
                    _ => run_libtest(&binaries, form, &options),
                };
                let wall = start.elapsed();
                walls.entry((runner, form)).or_default().push(wall);
                let started = database.finish(form);
                instances.entry((runner, form)).or_default().push(started);
                let left_behind = stop_orphans(&round);
                orphans
                    .entry((runner, form))
                    .or_default()
                    .extend(left_behind);
                let failed = outcomes
                    .iter()
                    .filter(|(_, kind, _)| kind.is_some())
                    .count();
                done += 1;
                let left = began.elapsed() / done * (rounds - done);
                eprintln!(
                    "run {run}/{}: {runner:<14} {form:<8} {} tests, {failed} failed, {} orphans, \
                     {:.1}s (about {:.0} min left)",
                    options.runs,
                    outcomes.len(),
                    left_behind.map_or("?".to_owned(), |n| n.to_string()),
                    wall.as_secs_f64(),
                    left.as_secs_f64() / 60.0
                );
                for (test, kind, time) in outcomes {
                    let tally = tallies.entry((test, runner, form)).or_default();
                    tally.runs += 1;
                    tally.times.extend(time);
                    if let Some(kind) = kind {
                        tally.failures += 1;
                        *tally.kinds.entry(kind).or_default() += 1;
                    }
                }
            }
        }
    }
    drop(load);
    print_tables(&tallies, &walls);
    print_orphans(&orphans);
    database::print(&instances);
}

fn print_orphans(orphans: &BTreeMap<(&str, &str), Vec<usize>>) {
    println!();
    println!("Orphan server processes left behind after each round (counted, then killed):\n");
    println!("| runner | form | rounds counted | orphans in all | most in one round |");
    println!("|---|---|---:|---:|---:|");
    for (&(runner, form), counts) in orphans {
        println!(
            "| {runner} | {form} | {} | {} | {} |",
            counts.len(),
            counts.iter().sum::<usize>(),
            counts.iter().max().copied().unwrap_or(0)
        );
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    let as_f64 = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
    100.0 * as_f64(part) / as_f64(whole.max(1))
}

fn median(times: &[Duration]) -> Option<Duration> {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied()
}

fn print_tables(
    tallies: &BTreeMap<(String, &str, &str), Tally>,
    walls: &BTreeMap<(&str, &str), Vec<Duration>>,
) {
    // `failed/runs (rate) | kinds | median time` of one form, or dashes when it did not run.
    let cells = |tally: Option<&Tally>| match tally {
        None => "- | | -".to_owned(),
        Some(t) => {
            let kinds: Vec<String> = t
                .kinds
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            let time =
                median(&t.times).map_or("-".to_owned(), |m| format!("{:.3}s", m.as_secs_f64()));
            format!(
                "{}/{} ({:.1}%) | {} | {time}",
                t.failures,
                t.runs,
                percent(t.failures, t.runs),
                kinds.join(", ")
            )
        }
    };
    println!("Per test: failed/runs (flake rate), kinds of failure, median time of the test:\n");
    println!(
        "| test | runner | as found | as found: kinds | as found: time \
         | migrated | migrated: kinds | migrated: time |"
    );
    println!("|---|---|---:|---|---:|---:|---|---:|");
    let mut keys: Vec<(&String, &str)> = tallies
        .keys()
        .map(|(test, runner, _)| (test, *runner))
        .collect();
    keys.dedup();
    for (test, runner) in keys {
        let found = cells(tallies.get(&(test.clone(), runner, "found")));
        let migrated = cells(tallies.get(&(test.clone(), runner, "migrated")));
        println!("| {test} | {runner} | {found} | {migrated} |");
    }
    println!();
    println!(
        "| runner | form | test executions | failures | flake rate | median wall time per run |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (&(runner, form), times) in walls {
        let (runs, failures) = tallies
            .iter()
            .filter(|((_, r, f), _)| *r == runner && *f == form)
            .fold((0, 0), |(runs, failures), (_, t)| {
                (runs + t.runs, failures + t.failures)
            });
        println!(
            "| {runner} | {form} | {runs} | {failures} | {:.2}% | {:.1}s |",
            percent(failures, runs),
            median(times).unwrap_or_default().as_secs_f64()
        );
    }
}

/// The database family (`tests/*_database_*.rs`, issue 17): how many database instances each
/// round started. Each round is a run of its own for `isolate::Fixture`: a stand-in runner
/// process names it (`ISOLATE_RUN`) and is killed when the round ends, and the migrated form's
/// servers are then stopped by the run's watcher, before `stop_orphans` counts what is left.
mod database {
    use std::collections::BTreeMap;
    use std::path::PathBuf;
    use std::process::{Child, Command};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// The environment of the current round's test processes.
    static ENV: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

    pub(super) fn env() -> Vec<(String, String)> {
        ENV.lock().map(|env| env.clone()).unwrap_or_default()
    }

    pub(super) struct Round {
        runner: Option<Child>,
        starts: PathBuf,
        marker: String,
    }

    impl Round {
        pub(super) fn start(round: &str) -> Round {
            let starts = std::env::temp_dir().join(format!("isolate-offender-starts-{round}"));
            let _ = std::fs::remove_file(&starts);
            let runner = Command::new("sleep").arg("3600").spawn().ok();
            let mut env = vec![(
                "ISOLATE_OFFENDER_STARTS".to_owned(),
                starts.to_string_lossy().into_owned(),
            )];
            if let Some(runner) = &runner {
                env.push(("ISOLATE_RUN".to_owned(), runner.id().to_string()));
            }
            if let Ok(mut current) = ENV.lock() {
                *current = env;
            }
            Round {
                runner,
                starts,
                marker: round.to_owned(),
            }
        }

        /// Ends the round's run and returns how many instances it started. For the migrated
        /// form, waits (up to 10s) for the run's watcher to stop its servers.
        pub(super) fn finish(mut self, form: &str) -> usize {
            if let Some(mut runner) = self.runner.take() {
                let _ = runner.kill();
                let _ = runner.wait();
            }
            if form == "migrated" {
                let end = Instant::now() + Duration::from_secs(10);
                while Instant::now() < end && servers_running(&self.marker) {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let started =
                std::fs::read_to_string(&self.starts).map_or(0, |text| text.lines().count());
            let _ = std::fs::remove_file(&self.starts);
            started
        }
    }

    /// Whether a server this round started still runs (Linux; elsewhere assumed gone).
    fn servers_running(round: &str) -> bool {
        let marker = format!("{}={round}\0", super::ROUND_VAR);
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return false;
        };
        entries.flatten().any(|entry| {
            std::fs::read_link(entry.path().join("exe"))
                .is_ok_and(|exe| exe.file_name().is_some_and(|n| n == "initialising-server"))
                && std::fs::read(entry.path().join("environ"))
                    .is_ok_and(|env| env.windows(marker.len()).any(|w| w == marker.as_bytes()))
        })
    }

    pub(super) fn print(instances: &BTreeMap<(&str, &str), Vec<usize>>) {
        println!();
        println!(
            "Database instances started per round by the database family (`tests/*_database_*.rs`; \
             migrated: 1 per run):\n"
        );
        println!("| runner | form | rounds | instances per round |");
        println!("|---|---|---:|---|");
        for (&(runner, form), counts) in instances {
            let shown: Vec<String> = counts.iter().map(ToString::to_string).collect();
            println!(
                "| {runner} | {form} | {} | {} |",
                counts.len(),
                shown.join(", ")
            );
        }
    }
}
