//! Shared by the integration tests: re-running this test binary as child processes, a log
//! that threads and processes append enter/exit records to, and the overlap checks on it.
#![allow(dead_code, unreachable_pub)]

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Tells a re-run test which part it plays; absent in the parent.
pub const ROLE: &str = "ISOLATE_TEST_ROLE";
/// The log file a child appends to.
pub const LOG: &str = "ISOLATE_TEST_LOG";

/// The role this process plays, when it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// A command that re-runs exactly `test` of this binary as a child playing `role`. Works the
/// same under `cargo test` and `cargo nextest run`: both run libtest binaries.
pub fn child(test: &str, role: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    command
        .args([
            "--exact",
            test,
            "--nocapture",
            "--test-threads",
            "1",
            "--include-ignored",
        ])
        .env(ROLE, role)
        .stdin(Stdio::null());
    command
}

/// [`child`], locking in the isolate directory `root` and appending to `log`: children that
/// share a root share their locks with each other and with nothing else on the machine.
pub fn child_in(test: &str, role: &str, root: &Path, log: &Log) -> Command {
    let mut command = child(test, role);
    command.env(isolate::env::DIR, root).env(LOG, &log.path);
    command
}

/// Runs the command to completion, capturing its output, and fails with that output when it
/// does not exit as `expect_success` says.
pub fn run(command: &mut Command, expect_success: bool) -> Output {
    let output = command.output().expect("spawn a child test process");
    assert!(
        output.status.success() == expect_success,
        "child exited with {} (expected {}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        if expect_success { "success" } else { "failure" },
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// All of a child's output, stdout then stderr.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A fresh owner-only directory for `ISOLATE_DIR`, so children share locks with each other
/// and with nothing else on the machine.
pub fn private_root() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temp dir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod 700");
    dir
}

/// Nanoseconds since the epoch: a clock every process on the machine shares.
pub fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

/// An append-only record file shared by threads and processes.
#[derive(Clone, Debug)]
pub struct Log {
    pub path: PathBuf,
}

impl Log {
    pub fn new(dir: &Path) -> Log {
        Log {
            path: dir.join("log"),
        }
    }

    /// The log named by `ISOLATE_TEST_LOG` (in a child).
    pub fn from_env() -> Log {
        Log {
            path: PathBuf::from(std::env::var(LOG).expect("ISOLATE_TEST_LOG is set for children")),
        }
    }

    /// Appends one line; `O_APPEND` keeps concurrent lines whole.
    pub fn append(&self, line: &str) {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .expect("open the log");
        file.write_all(format!("{line}\n").as_bytes())
            .expect("append to the log");
    }

    pub fn lines(&self) -> Vec<String> {
        fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Lines of two numbers, `<pid> <pid>`, as a fixture's init writes them.
    pub fn pid_pairs(&self) -> Vec<(u32, u32)> {
        self.lines()
            .iter()
            .map(|line| {
                let (a, b) = line.split_once(' ').expect("`<pid> <pid>`");
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect()
    }

    /// Waits (bounded) until the log has at least `n` lines starting with `prefix`: a barrier
    /// across processes.
    pub fn wait_for(&self, prefix: &str, n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let count = self
                .lines()
                .iter()
                .filter(|line| line.starts_with(prefix))
                .count();
            if count >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {count} of {n} `{prefix}` records after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// One member's stay in a group, as recorded by the member itself.
#[derive(Debug, Clone)]
pub struct Interval {
    pub who: String,
    pub mode: String,
    pub enter: u128,
    pub exit: u128,
    pub weight: u64,
}

/// Records `enter <ns> <who> <mode> <weight>` and `exit <ns> <who> ...` around `body`.
pub fn stay(log: &Log, who: &str, mode: &str, weight: u64, body: impl FnOnce()) {
    log.append(&format!("enter {} {who} {mode} {weight}", now_ns()));
    body();
    log.append(&format!("exit {} {who} {mode} {weight}", now_ns()));
}

/// Pairs enter/exit records into intervals: each enter of a `who` (a thread enters again only
/// after it left) with the exit that follows it.
pub fn intervals(log: &Log) -> Vec<Interval> {
    let field = |line: &str, i: usize| line.split(' ').nth(i).unwrap_or_default().to_owned();
    let mut inside: std::collections::HashMap<String, (String, u64, u128)> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for line in log.lines() {
        let who = field(&line, 2);
        let time = || field(&line, 1).parse::<u128>().expect("a time");
        if line.starts_with("enter ") {
            let weight = field(&line, 4).parse().unwrap_or(0);
            let entered = inside.insert(who.clone(), (field(&line, 3), weight, time()));
            assert!(entered.is_none(), "`{who}` entered twice without leaving");
        } else if line.starts_with("exit ") {
            let (mode, weight, enter) = inside
                .remove(&who)
                .unwrap_or_else(|| panic!("`{who}` left without entering"));
            out.push(Interval {
                who,
                mode,
                weight,
                enter,
                exit: time(),
            });
        }
    }
    if let Some(who) = inside.keys().next() {
        panic!("`{who}` entered and never left");
    }
    out.sort_by_key(|i| i.enter);
    out
}

fn overlaps(a: &Interval, b: &Interval) -> bool {
    a.enter < b.exit && b.enter < a.exit
}

/// No exclusive member's stay overlaps any other member's stay.
pub fn assert_exclusive_alone(intervals: &[Interval]) {
    for (i, a) in intervals.iter().enumerate() {
        for b in &intervals[i + 1..] {
            assert!(
                !((a.mode == "serial" || b.mode == "serial") && overlaps(a, b)),
                "{a:?} overlaps {b:?}"
            );
        }
    }
}

/// The most weight held at once, over all intervals.
pub fn peak_weight(intervals: &[Interval]) -> u64 {
    let mut events: Vec<(u128, i64)> = Vec::new();
    for i in intervals {
        let w = i64::try_from(i.weight).expect("small weight");
        events.push((i.enter, w));
        events.push((i.exit, -w));
    }
    // Exits before enters at the same instant: touching intervals do not overlap.
    events.sort_by_key(|&(t, w)| (t, w));
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, w) in events {
        now += w;
        peak = peak.max(now);
    }
    u64::try_from(peak).expect("non-negative")
}

/// Pairs of intervals that overlap.
pub fn overlapping_pairs(intervals: &[Interval]) -> usize {
    let mut pairs = 0;
    for (i, a) in intervals.iter().enumerate() {
        pairs += intervals[i + 1..].iter().filter(|b| overlaps(a, b)).count();
    }
    pairs
}

/// Keeps a child from lingering if its parent's assertion fails first.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns every command at once, then waits for all, checking each exits as expected.
pub fn run_all(commands: Vec<Command>, expect_success: bool) -> Vec<Output> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|mut command| {
            command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn a child test process")
        })
        .collect();
    // Every child's output first: one child's failure often makes another wait and fail, and
    // the first failure is the one to read.
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|child| child.wait_with_output().expect("wait for a child"))
        .collect();
    let unexpected: Vec<String> = outputs
        .iter()
        .filter(|output| output.status.success() != expect_success)
        .map(text)
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} of {} children did not end as expected ({}); their output:\n{}",
        unexpected.len(),
        outputs.len(),
        if expect_success {
            "a pass"
        } else {
            "a failure"
        },
        unexpected.join("\n----\n")
    );
    outputs
}

/// Busy for about `micros`, yielding: widens a critical section so a broken lock would show
/// as an overlap, without relying on sleep timing for correctness.
pub fn work(micros: u128) {
    let start = now_ns();
    while now_ns() - start < micros * 1000 {
        std::thread::yield_now();
    }
}

/// Who is recording: pid and thread, unique across processes.
pub fn me() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], "")
}

/// Whether `pid` is a live process (not a zombie).
pub fn running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
    })
}

/// Waits up to `limit` for `done`, checking every 50 ms.
pub fn within(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    done()
}

/// Runs `holder` on a thread of its own until it says (on its first argument) that it holds
/// what it asked for; the thread, and what lets it go (a send on the second argument).
pub fn holding(
    holder: fn(std::sync::mpsc::Sender<()>, std::sync::mpsc::Receiver<()>),
) -> (std::thread::JoinHandle<()>, std::sync::mpsc::Sender<()>) {
    let (held, is_held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || holder(held, released));
    is_held.recv().expect("the holder holds");
    (thread, release)
}

/// [`child_in`] for every test whose name contains `filter`, on `threads` threads at once.
pub fn children_in(filter: &str, threads: u32, root: &Path, log: &Log) -> Command {
    let exact = child_in(filter, "run", root, log);
    let args: Vec<_> = exact
        .get_args()
        .filter(|arg| *arg != "--exact" && *arg != "--test-threads" && *arg != "1")
        .map(ToOwned::to_owned)
        .collect();
    let mut all = Command::new(exact.get_program());
    all.args(args)
        .args(["--test-threads", &threads.to_string()])
        .envs(exact.get_envs().filter_map(|(k, v)| Some((k, v?))));
    all
}
