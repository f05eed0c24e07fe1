//! `cargo isolate` run as a command on small crates generated in a temp dir.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn generate(dir: &Path, test_file: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"generated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    std::fs::write(dir.join("tests/pair.rs"), test_file).unwrap();
}

/// `cargo isolate ARGS` on the crate in `dir`, its build kept in `dir`. The outer runner's
/// `NEXTEST*` settings are left out: they are ours, not the inner run's.
fn command(dir: &Path, args: &[&str]) -> Command {
    // Before a `--`: after it, `--manifest-path` would be a test filter, and the crate built
    // the one of the current directory (this workspace, from scratch, in minutes).
    let options = args
        .iter()
        .position(|arg| *arg == "--")
        .unwrap_or(args.len());
    let mut command = Command::new(env!("CARGO_BIN_EXE_cargo-isolate"));
    command
        .args(&args[..options])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(&args[options..])
        .env("CARGO_TARGET_DIR", dir.join("target"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NEXTEST") {
            command.env_remove(name);
        }
    }
    command
}

fn cargo_isolate(dir: &Path, args: &[&str]) -> std::process::Output {
    command(dir, args).output().unwrap()
}

/// Whether `cargo nextest` runs here (its parts of the tests are skipped when not).
fn nextest_installed() -> bool {
    Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn json_lines(output: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `collides` holds a lock file of the crate's own for a second and fails when it finds it
/// held: two runs at once always overlap it; one runner alone never does.
const PAIR: &str = r#"
fn lock() -> std::path::PathBuf { std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("held") }

#[test]
fn collides() {
    let held = std::fs::OpenOptions::new().write(true).create_new(true).open(lock());
    assert!(held.is_ok(), "another test holds the lock file");
    std::thread::sleep(std::time::Duration::from_secs(1));
    std::fs::remove_file(lock()).unwrap();
}

#[test]
fn clean() {
    assert_eq!(1 + 1, 2);
}
"#;

#[test]
fn stress_reports_each_test_and_runner_and_gates_on_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), PAIR);
    let nextest = nextest_installed();
    let runners = if nextest {
        "test,nextest,concurrent"
    } else {
        eprintln!("cargo-nextest is missing: the nextest part of this test is skipped (`cargo install cargo-nextest --locked`)");
        "test,concurrent"
    };
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress",
            "--runs",
            "2",
            "--load",
            "0",
            "--threads",
            "2",
            "--runner",
            runners,
            "--format",
            "json",
        ],
    );
    let lines = json_lines(&output.stdout);
    let line = |test: &str, runner: &str| {
        lines
            .iter()
            .find(|l| l["test"] == test && l["runner"] == runner)
            .unwrap_or_else(|| {
                panic!(
                    "no line for {test} under {runner}: {lines:#?}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
    };
    for runner in runners.split(',') {
        let runs = if runner == "concurrent" { 4 } else { 2 };
        let clean = line("pair::clean", runner);
        assert_eq!(
            (clean["runs"].as_u64(), clean["failed"].as_u64()),
            (Some(runs), Some(0)),
            "{clean}"
        );
        assert_eq!(clean["kinds"], serde_json::json!({}));
        let collides = line("pair::collides", runner);
        assert_eq!(collides["runs"].as_u64(), Some(runs), "{collides}");
        if runner == "concurrent" {
            // One of the two runs at once finds the file held, every round.
            assert_eq!(collides["failed"].as_u64(), Some(2), "{collides}");
            assert_eq!(collides["kinds"], serde_json::json!({"wrong data": 2}));
        } else {
            assert_eq!(collides["failed"].as_u64(), Some(0), "{collides}");
        }
        assert!(
            collides["median_seconds"].as_f64().unwrap() >= 0.9,
            "{collides}"
        );
    }
    assert_eq!(
        output.status.code(),
        Some(1),
        "a rate above --max-rate 0 fails the run"
    );
    // And says why, naming the knob.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("error: `pair::") && stderr.contains("above `--max-rate 0`"),
        "{stderr}"
    );
}

/// `test,nextest`, or `test` where cargo-nextest is missing (then said).
fn test_and_nextest() -> &'static str {
    if nextest_installed() {
        "test,nextest"
    } else {
        eprintln!("cargo-nextest is missing: the nextest part of this test is skipped");
        "test"
    }
}

/// Seen on tokio-tungstenite: nextest names a library's unit tests `PACKAGE::TARGET$test`
/// (`tokio-tungstenite::tokio_tungstenite$tests::...`) while its binary id is `PACKAGE`, and
/// every unit test was counted as not reported, in every round.
#[test]
fn stress_counts_a_librarys_unit_tests_under_every_runner() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "#[test]\nfn integration() {}\n");
    std::fs::write(
        dir.path().join("src/lib.rs"),
        "#[cfg(test)]\nmod tests {\n    #[test]\n    fn unit() {}\n}\n",
    )
    .unwrap();
    let runners = test_and_nextest();
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress", "--runs", "1", "--load", "0", "--runner", runners, "--format", "json",
        ],
    );
    let lines = json_lines(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for runner in runners.split(',') {
        for test in ["generated::tests::unit", "pair::integration"] {
            let line = lines
                .iter()
                .find(|l| l["test"] == test && l["runner"] == runner)
                .unwrap_or_else(|| panic!("no {test} under {runner}: {lines:#?}\n{stderr}"));
            assert_eq!(
                (line["runs"].as_u64(), line["failed"].as_u64()),
                (Some(1), Some(0)),
                "{line}\n{stderr}"
            );
        }
    }
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // Without a terminal (CI) there is no progress bar, but every round is still said.
    for runner in runners.split(',') {
        assert!(
            stderr.contains(&format!("run 1/1: {runner:<10}")),
            "{runner}: {stderr}"
        );
    }
}

/// `--test NAME` stresses only that integration test target, under every runner, as
/// `cargo test --test NAME` would run it.
#[test]
fn stress_test_chooses_the_test_targets() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "#[test]\nfn in_pair() {}\n");
    std::fs::write(
        dir.path().join("tests/other.rs"),
        "#[test]\nfn in_other() {}\n",
    )
    .unwrap();
    let runners = test_and_nextest();
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress", "--runs", "1", "--load", "0", "--runner", runners, "--format", "json",
            "--test", "other",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let tests: std::collections::BTreeSet<String> = json_lines(&output.stdout)
        .iter()
        .filter_map(|line| line["test"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        tests.into_iter().collect::<Vec<_>>(),
        ["other::in_other"],
        "{stderr}"
    );
}

/// A filter that matches no test measured nothing: a CI gate must not read it as a pass.
#[test]
fn stress_fails_when_no_test_matches_the_filters() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), "#[test]\nfn integration() {}\n");
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress",
            "--runs",
            "1",
            "--load",
            "0",
            "--runner",
            "test",
            "--",
            "no_such_test",
        ],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: no test matches `no_such_test`\n"),
        "{stderr}"
    );
}

#[test]
fn audit_prints_json_lines_denies_and_skips_unparsable_files() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        "#[test]\nfn t() {\n    std::env::set_var(\"A\", \"1\");\n}\n",
    );
    std::fs::write(dir.path().join("tests/broken.rs"), "fn (").unwrap();
    let output = cargo_isolate(dir.path(), &["audit", "--format", "json", "--deny"]);
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let finding = &lines[0];
    assert_eq!(
        (
            finding["file"].as_str(),
            finding["line"].as_u64(),
            finding["column"].as_u64()
        ),
        (Some("tests/pair.rs"), Some(3), Some(5))
    );
    assert_eq!(
        (finding["kind"].as_str(), finding["test"].as_str()),
        (Some("process-global"), Some("t"))
    );
    assert!(finding["fix"]
        .as_str()
        .unwrap()
        .contains("`#[isolated(env)]`"));
    assert!(finding["message"].as_str().unwrap().contains("nextest"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("skipped `tests/broken.rs`: cannot parse"),
        "{stderr}"
    );

    let human = cargo_isolate(dir.path(), &["audit"]);
    assert_eq!(human.status.code(), Some(0), "without --deny");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("tests/pair.rs: 1 finding")
            && text.contains("    | ")
            && text.contains("process-global 1"),
        "{text}"
    );

    let usage = cargo_isolate(dir.path(), &["audit", "--format", "xml"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("[possible values: human, json]"));
}

/// Holds 200 files open at once: more than `--nofile 64` allows.
const OPENS: &str = r#"
#[test]
fn opens_200() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let files: Vec<std::fs::File> = (0..200).map(|_| std::fs::File::open(&manifest).unwrap()).collect();
    assert_eq!(files.len(), 200);
}
"#;

#[test]
fn stress_nofile_limits_the_test_processes() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), OPENS);
    let stress = |extra: &[&str]| {
        let mut args = vec![
            "stress", "--runs", "1", "--runner", "test", "--load", "0", "--format", "json",
        ];
        args.extend(extra);
        let output = cargo_isolate(dir.path(), &args);
        let lines = json_lines(&output.stdout);
        assert_eq!(
            lines.len(),
            1,
            "{lines:#?}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), lines[0].clone())
    };
    let (code, limited) = stress(&["--nofile", "64"]);
    assert_eq!(
        (limited["failed"].as_u64(), &limited["kinds"]),
        (Some(1), &serde_json::json!({"too many open files": 1})),
        "{limited}"
    );
    assert_eq!(code, Some(1));
    let (code, unlimited) = stress(&[]);
    assert_eq!(
        (unlimited["runs"].as_u64(), unlimited["failed"].as_u64()),
        (Some(1), Some(0)),
        "{unlimited}"
    );
    assert_eq!(code, Some(0));
}

/// Writes its pid as `pid-PID` into the directory `$E2E_MARKER`, then waits (a minute at most)
/// for `release-PID` there: the outer test sees each run start and ends it when it wants.
const GATE: &str = r#"
#[test]
fn gate() {
    let marker = std::path::PathBuf::from(std::env::var_os("E2E_MARKER").unwrap());
    let pid = std::process::id();
    std::fs::write(marker.join(format!("pid-{pid}")), "").unwrap();
    let start = std::time::Instant::now();
    while !marker.join(format!("release-{pid}")).exists() {
        assert!(start.elapsed().as_secs() < 60, "never released");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
"#;

/// `cargo isolate stress` running in the background on a crate with [`GATE`], its output in
/// files (a full pipe would block it). Dropped, it releases every gate and ends the run.
struct Gated {
    child: std::process::Child,
    marker: tempfile::TempDir,
    out: tempfile::TempDir,
}

impl Gated {
    fn spawn(dir: &Path, args: &[&str]) -> Gated {
        let marker = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let file = |name: &str| std::fs::File::create(out.path().join(name)).unwrap();
        let child = command(dir, args)
            .env("E2E_MARKER", marker.path())
            .stdout(file("stdout"))
            .stderr(file("stderr"))
            .spawn()
            .unwrap();
        Gated { child, marker, out }
    }

    /// The gates started so far, in no order.
    fn pids(&self) -> Vec<u32> {
        std::fs::read_dir(self.marker.path())
            .unwrap()
            .filter_map(|e| {
                e.unwrap()
                    .file_name()
                    .to_str()?
                    .strip_prefix("pid-")?
                    .parse()
                    .ok()
            })
            .collect()
    }

    /// Waits for a gate that is not in `seen`.
    fn next_gate(&mut self, seen: &[u32]) -> u32 {
        let mut found = None;
        wait_until("a test to start", || {
            found = self.pids().into_iter().find(|p| !seen.contains(p));
            found.is_some() || !matches!(self.child.try_wait(), Ok(None))
        });
        found.unwrap_or_else(|| panic!("stress ended first:\n{}", self.stderr()))
    }

    fn release(&self, pid: u32) {
        std::fs::write(self.marker.path().join(format!("release-{pid}")), "").unwrap();
    }

    /// Waits for the end of the run: its status and how long after the call it came.
    fn wait(&mut self) -> (std::process::ExitStatus, std::time::Duration) {
        let start = std::time::Instant::now();
        let mut status = None;
        wait_until("stress to end", || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        });
        (status.unwrap(), start.elapsed())
    }

    fn stdout(&self) -> Vec<u8> {
        std::fs::read(self.out.path().join("stdout")).unwrap()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.out.path().join("stderr")).unwrap()
    }
}

impl Drop for Gated {
    fn drop(&mut self) {
        for pid in self.pids() {
            self.release(pid);
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `done` every 10 ms; panics after two minutes (a cold build of the crate included).
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// User plus system CPU time, in clock ticks (1/100 s on Linux), of each thread of `pid`.
fn thread_ticks(pid: u32) -> Vec<u64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
        .map(|stat| {
            // After the command name (which may hold spaces) in parentheses, utime and stime
            // are the 12th and 13th fields.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            after
                .split(' ')
                .skip(11)
                .take(2)
                .map(|f| f.parse::<u64>().unwrap())
                .sum()
        })
        .collect()
}

/// Threads of `pid` that have used half a second of CPU or more.
fn busy_threads(pid: u32) -> usize {
    thread_ticks(pid).into_iter().filter(|&t| t >= 50).count()
}

/// `--load N` is observed in the stress process itself while a test runs: exactly N of its
/// threads each burn half a second of CPU (however long the shared machine takes to give it;
/// the threads exist before the first round, so the count cannot race the round's own
/// threads), and with `--load 0`, held for as long, none does.
#[test]
fn stress_load_runs_busy_threads_beside_the_tests() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), GATE);
    let mut held = std::time::Duration::ZERO;
    for load in ["2", "0"] {
        let mut stress = Gated::spawn(
            dir.path(),
            &[
                "stress", "--runs", "1", "--runner", "test", "--load", load, "--format", "json",
            ],
        );
        let gate = stress.next_gate(&[]);
        let pid = stress.child.id();
        let start = std::time::Instant::now();
        if load == "2" {
            wait_until("two busy threads", || busy_threads(pid) >= 2);
            held = start.elapsed();
        } else {
            wait_until("as long as the loaded run took", || start.elapsed() >= held);
        }
        let busy = busy_threads(pid);
        assert_eq!(
            busy.to_string(),
            load,
            "busy threads: {:?}",
            thread_ticks(pid)
        );
        stress.release(gate);
        let (status, _) = stress.wait();
        assert!(status.success(), "{}", stress.stderr());
        let lines = json_lines(&stress.stdout());
        assert_eq!(
            (
                lines.len(),
                lines[0]["runs"].as_u64(),
                lines[0]["failed"].as_u64()
            ),
            (1, Some(1), Some(0)),
            "{lines:#?}"
        );
    }
}

/// Ctrl-C in the second round: the run ends at once, every test process it started is gone,
/// and the first round's results are printed.
#[test]
fn ctrl_c_stops_every_child_and_prints_the_table_so_far() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), GATE);
    let nextest = nextest_installed();
    let runners: &[&str] = if nextest {
        &["test", "nextest"]
    } else {
        eprintln!("cargo-nextest is missing: the nextest part of this test is skipped");
        &["test"]
    };
    for runner in runners {
        let mut stress = Gated::spawn(
            dir.path(),
            &[
                "stress", "--runs", "3", "--runner", runner, "--load", "0", "--format", "json",
            ],
        );
        let first = stress.next_gate(&[]);
        stress.release(first);
        let second = stress.next_gate(&[first]);
        let interrupted = Command::new("kill")
            .args(["-INT", &stress.child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let (status, took) = stress.wait();
        let stderr = stress.stderr();
        assert!(
            took.as_secs() < 10,
            "{runner}: took {took:?} to stop:\n{stderr}"
        );
        assert!(stderr.contains("interrupted"), "{runner}: {stderr}");
        let mut gone = false;
        for _ in 0..200 {
            gone = !Path::new(&format!("/proc/{second}")).exists();
            if gone {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(
            gone,
            "{runner}: the interrupted test (pid {second}) still runs"
        );
        let lines = json_lines(&stress.stdout());
        assert_eq!(lines.len(), 1, "{runner}: {lines:#?}");
        // A run cut short proved nothing: a CI gate must not read it as a pass.
        assert_eq!(status.code(), Some(130), "{runner}: {stderr}");

        assert_eq!(
            (
                lines[0]["test"].as_str(),
                lines[0]["runs"].as_u64(),
                lines[0]["failed"].as_u64()
            ),
            (Some("pair::gate"), Some(1), Some(0)),
            "{runner}: the first round only: {}",
            lines[0]
        );
    }
}

/// The first of two runs at once to reach `once` is held 2 s there, the other not at all: two
/// runs that go through the binaries on their own then reach `twin` 2 s apart.
const FIRST: &str = r#"
#[test]
fn once() {
    let first = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("first");
    if std::fs::OpenOptions::new().write(true).create_new(true).open(&first).is_ok() {
        std::thread::sleep(std::time::Duration::from_secs(2));
        std::fs::remove_file(first).unwrap();
    }
}
"#;

/// `meets_twin` leaves a file of its process's for 1 s and fails unless it sees its twin's
/// beside it halfway through: it passes only when the two runs' instances overlap.
const TWIN: &str = r#"
#[test]
fn meets_twin() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mine = dir.join(format!("twin.{}", std::process::id()));
    std::fs::write(&mine, "").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let twins = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("twin."))
        .count();
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::remove_file(mine).unwrap();
    assert_eq!(twins, 2, "the twin did not overlap");
}
"#;

/// Seen on tiny-http: a short test on a fixed socket path collided 1 round in 20 under two runs
/// at once, which drifted apart binary by binary. Each binary is started twice together: a test
/// overlaps its twin whatever the binaries before it took.
#[test]
fn two_runs_at_once_start_each_binary_together() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), TWIN);
    std::fs::write(dir.path().join("tests/first.rs"), FIRST).unwrap();
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress",
            "--runs",
            "2",
            "--load",
            "0",
            "--runner",
            "concurrent",
            "--format",
            "json",
        ],
    );
    let lines = json_lines(&output.stdout);
    let twin = lines
        .iter()
        .find(|l| l["test"] == "pair::meets_twin")
        .unwrap_or_else(|| panic!("{lines:#?}\n{}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(
        (twin["runs"].as_u64(), twin["failed"].as_u64()),
        (Some(4), Some(0)),
        "{twin}"
    );
}

/// Two quick tests and one that hangs past the deadline. Under nextest the hung test becomes a
/// shell that ignores `SIGTERM` (a server that does not stop when asked), and the crate gives
/// nextest a 30 s grace to end it: nextest outlives our own grace after `SIGTERM` and is killed
/// before it writes its buffered JSON, as seen on a busy machine.
const HANGS: &str = r#"
#[test]
fn quick() {}

#[test]
fn quick_slept() {
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[test]
fn hangs() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("NEXTEST_RUN_ID").is_some() {
        let error = std::process::Command::new("sh")
            .args(["-c", "trap '' TERM; while :; do sleep 1; done"])
            .arg(env!("CARGO_MANIFEST_DIR"))
            .exec();
        panic!("{error}");
    }
    std::thread::sleep(std::time::Duration::from_secs(600));
}
"#;

/// Writes the generated crate's `.config/nextest.toml`.
fn nextest_profile(dir: &Path, toml: &str) {
    std::fs::create_dir_all(dir.join(".config")).unwrap();
    std::fs::write(dir.join(".config/nextest.toml"), toml).unwrap();
}

/// Seen in `flake-report` on a busy machine: a nextest round hit its deadline and all 48 tests
/// were recorded as timed out, also the ones that had passed long before it.
#[test]
fn a_round_cut_at_its_deadline_keeps_the_results_of_the_tests_that_finished() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), HANGS);
    nextest_profile(
        dir.path(),
        "[profile.default]\nslow-timeout = { period = \"60s\", grace-period = \"30s\" }\n",
    );
    let runners = test_and_nextest();
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress",
            "--runs",
            "1",
            "--load",
            "0",
            "--threads",
            "4",
            "--runner",
            runners,
            "--deadline",
            "5",
            "--format",
            "json",
        ],
    );
    let marker = dir.path().to_string_lossy().into_owned();
    let ps = Command::new("ps")
        .args(["-A", "-o", "pid=,args="])
        .output()
        .unwrap();
    let left: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&marker) && !l.contains(" ps "))
        .map(str::to_owned)
        .collect();
    for line in &left {
        // Ours (they carry this test's own directory): gone before any assertion fails.
        let pid = line.split_whitespace().next().unwrap();
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines = json_lines(&output.stdout);
    for runner in runners.split(',') {
        let line = |test: &str| {
            lines
                .iter()
                .find(|l| l["test"] == test && l["runner"] == runner)
                .unwrap_or_else(|| panic!("no {test} under {runner}: {lines:#?}\n{stderr}"))
        };
        for quick in ["pair::quick", "pair::quick_slept"] {
            let line = line(quick);
            assert_eq!(
                (line["failed"].as_u64(), line["median_seconds"].is_f64()),
                (Some(0), true),
                "{runner}: {quick} passed before the deadline, with its time: {line}\n{stderr}"
            );
        }
        let hangs = line("pair::hangs");
        assert_eq!(
            hangs["kinds"],
            serde_json::json!({"timeout": 1}),
            "{runner}: {hangs}\n{stderr}"
        );
    }
    for runner in runners.split(',') {
        assert!(
            stderr.contains(&format!("{runner}: cut at its deadline of 5s")),
            "{runner}: the round says it was cut, and at which deadline:\n{stderr}"
        );
    }
    assert!(
        stderr.contains("pair::hangs") && stderr.contains("--deadline"),
        "names the test that was still running and how to raise the deadline:\n{stderr}"
    );
    assert!(
        left.is_empty(),
        "the cut round left these running: {left:#?}"
    );
}

/// A test that fails on its first attempt and passes on the next (its marker is removed
/// between rounds), and one that hangs past the deadline.
const RETRIED: &str = r#"
#[test]
fn flaky() {
    let marker = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tried");
    if std::fs::create_dir(marker).is_ok() {
        panic!("first attempt");
    }
}

#[test]
fn hangs() {
    std::thread::sleep(std::time::Duration::from_secs(600));
}
"#;

/// A profile with `retries` made nextest report a retried test as `flaky#2` (libtest-json,
/// an uncut round: counted as not reported) and as `TRY 1 FAIL`, then `TRY 2 PASS` (its human
/// lines, a cut round: counted by its first attempt). Every round of every runner runs a test
/// once: the first attempt is the one counted, with its failure's kind, cut or not.
#[test]
fn a_retried_test_counts_by_its_one_attempt_in_a_cut_round_as_in_an_uncut_one() {
    if !nextest_installed() {
        eprintln!("cargo-nextest is missing: this test is skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), RETRIED);
    nextest_profile(dir.path(), "[profile.default]\nretries = 2\n");
    let stress = |args: &[&str]| {
        let _ = std::fs::remove_dir(dir.path().join("tried"));
        let mut all = vec![
            "stress", "--runs", "1", "--load", "0", "--runner", "nextest", "--format", "json",
        ];
        all.extend(args);
        let output = cargo_isolate(dir.path(), &all);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let flaky = json_lines(&output.stdout)
            .into_iter()
            .find(|l| l["test"] == "pair::flaky")
            .unwrap_or_else(|| panic!("no pair::flaky: {stderr}"));
        (flaky, stderr)
    };
    let uncut = stress(&["--", "flaky"]);
    assert!(!uncut.1.contains("cut at its deadline"), "{}", uncut.1);
    let cut = stress(&["--deadline", "5"]);
    assert!(cut.1.contains("cut at its deadline"), "{}", cut.1);
    for (round, (flaky, stderr)) in [("uncut", uncut), ("cut", cut)] {
        assert_eq!(
            (
                flaky["runs"].as_u64(),
                flaky["failed"].as_u64(),
                &flaky["kinds"]
            ),
            (Some(1), Some(1), &serde_json::json!({"other": 1})),
            "{round}: {flaky}\n{stderr}"
        );
    }
}
