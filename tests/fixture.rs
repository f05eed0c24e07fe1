//! Run-wide fixtures: one init per run across threads and processes, a failed init recorded
//! and never retried, bounded waits that name the initialiser, and teardown when the runner
//! dies. Runs are made with `ISOLATE_RUN` and a stand-in runner (`sleep`) that the test kills,
//! so SIGKILL of the runner is real; each test re-runs this binary as the run's test processes.

mod redis_support;
mod support;

use support::{running, within};

use std::path::PathBuf;
use std::process::{Child as StdChild, Command, Stdio};
use std::time::Duration;

use isolate::{isolated, ready, Fixture, InitError, Setup};
use serde::{Deserialize, Serialize};

/// Where an init appends one line per run of it, `<pid> <server pid>`.
const COUNT: &str = "FIXTURE_TEST_COUNT";
/// Makes the init fail after starting its server.
const FAIL: &str = "FIXTURE_TEST_FAIL";
/// Makes the init sleep this many milliseconds before it is ready.
const SLOW_MS: &str = "FIXTURE_TEST_SLOW_MS";

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Db {
    url: String,
    pid: u32,
    dir: PathBuf,
}

fn start_db(setup: &mut Setup) -> Result<Db, InitError> {
    let port = setup.reserved_port()?;
    let dir = setup.dir()?;
    let server = setup.spawn(
        Command::new("sh")
            .args([
                "-c",
                "echo migrating; sleep 0.1; echo ready; exec sleep 600",
            ])
            .current_dir(&dir),
    )?;
    if let Ok(path) = std::env::var(COUNT) {
        support::Log {
            path: PathBuf::from(path),
        }
        .append(&format!("{} {}", std::process::id(), server.pid()));
    }
    if let Ok(ms) = std::env::var(SLOW_MS) {
        std::thread::sleep(Duration::from_millis(ms.parse()?));
    }
    server.wait_ready(ready::line("ready").within("30s"))?;
    if std::env::var_os(FAIL).is_some() {
        return Err("migration 7 failed: duplicate column `email`".into());
    }
    Ok(Db {
        url: format!("db://127.0.0.1:{port}"),
        pid: server.pid(),
        dir,
    })
}

static DB: Fixture<Db> = Fixture::new("fixture-test-db", start_db);

/// A stand-in runner: a process that lives until killed, whose pid names the run.
struct Runner {
    process: StdChild,
    root: tempfile::TempDir,
    count: PathBuf,
}

impl Runner {
    fn start() -> Runner {
        let root = support::private_root();
        let count = root.path().join("count");
        let process = Command::new("sleep")
            .arg("600")
            .spawn()
            .expect("start sleep");
        Runner {
            process,
            root,
            count,
        }
    }

    /// A test process of this run: runs `child_uses_the_fixture`.
    fn test_process(&self) -> Command {
        self.test_process_of("child_uses_the_fixture")
    }

    /// A test process of this run that runs `test`.
    fn test_process_of(&self, test: &str) -> Command {
        let mut command = support::child(test, "use");
        command
            .env("ISOLATE_RUN", self.process.id().to_string())
            .env("ISOLATE_DIR", self.root.path())
            .env(COUNT, &self.count)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// The inits of this run: `(test process pid, server pid)`.
    fn inits(&self) -> Vec<(u32, u32)> {
        support::Log {
            path: self.count.clone(),
        }
        .pid_pairs()
    }

    /// SIGKILLs the runner, as a CI job's timeout would.
    fn kill(&mut self) {
        self.process.kill().unwrap();
        self.process.wait().unwrap();
    }

    fn runs_dir(&self) -> PathBuf {
        self.root.path().join("runs")
    }
}

impl Drop for Runner {
    /// Ends the run and waits for its watcher to clean up before the root is removed (without
    /// the root's list of children, the watcher would have nothing to stop).
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
        let clean = within(Duration::from_secs(10), || {
            std::fs::read_dir(self.runs_dir()).map_or(true, |mut d| d.next().is_none())
        });
        if !std::thread::panicking() {
            assert!(clean, "the run's watcher did not clean up");
        }
    }
}

/// Played by the re-run test processes: use the fixture, print what it gave.
#[test]
#[isolated(fixture(db = DB))]
fn child_uses_the_fixture() {
    println!("server pid {} url {}", db.pid, db.url);
    assert!(running(db.pid), "the run's server runs");
}

fn server_pid(output: &std::process::Output) -> u32 {
    let text = support::text(output);
    let at = text.find("server pid ").expect(&text) + "server pid ".len();
    text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn every_thread_of_a_process_gets_one_value() {
    let values: Vec<usize> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| DB.get().map(|db| db as *const Db as usize)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap().unwrap())
            .collect()
    });
    assert!(values.windows(2).all(|w| w[0] == w[1]));
    assert!(running(DB.get().unwrap().pid));
}

#[test]
fn processes_of_one_run_share_one_init_and_two_runs_have_two() {
    let mut runs = [Runner::start(), Runner::start()];
    // Three test processes per run, all six at once.
    let children: Vec<(usize, StdChild)> = (0..6)
        .map(|i| (i % 2, runs[i % 2].test_process().spawn().unwrap()))
        .collect();
    let mut pids = [Vec::new(), Vec::new()];
    for (run, child) in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", support::text(&output));
        pids[run].push(server_pid(&output));
    }
    // Later test processes of a run read the value: still one init.
    for (run, runner) in runs.iter().enumerate() {
        let output = support::run(&mut runner.test_process(), true);
        pids[run].push(server_pid(&output));
    }
    for (run, runner) in runs.iter().enumerate() {
        let inits = runner.inits();
        assert_eq!(inits.len(), 1, "run {run}: {inits:?}");
        assert!(pids[run].iter().all(|pid| *pid == inits[0].1), "{pids:?}");
        assert!(running(inits[0].1));
    }
    assert_ne!(pids[0][0], pids[1][0], "two runs, two servers");

    // The runner is SIGKILLed: the watcher stops the server and removes the run's files.
    let server = runs[0].inits()[0].1;
    runs[0].kill();
    assert!(
        within(Duration::from_secs(8), || !running(server)),
        "the server outlived its killed runner"
    );
    assert!(within(Duration::from_secs(8), || std::fs::read_dir(
        runs[0].runs_dir()
    )
    .map_or(true, |mut d| d.next().is_none())));
    assert!(running(runs[1].inits()[0].1), "the other run is untouched");
}

#[test]
fn a_failed_init_fails_every_user_with_the_original_error_and_is_not_retried() {
    let runner = Runner::start();
    let spawn = || {
        let mut command = runner.test_process();
        command.env(FAIL, "1");
        command.spawn().unwrap()
    };
    let first: Vec<StdChild> = (0..3).map(|_| spawn()).collect();
    let mut texts: Vec<String> = first
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(!output.status.success());
            support::text(&output)
        })
        .collect();
    let inits = runner.inits();
    assert_eq!(inits.len(), 1, "{inits:?}");
    assert!(
        !running(inits[0].1),
        "the failed init's server is stopped at once"
    );
    let output = spawn().wait_with_output().unwrap();
    texts.push(support::text(&output));
    assert_eq!(runner.inits().len(), 1, "never retried");
    for text in texts {
        assert!(
            text.contains(
                "fixture `fixture-test-db` failed to start in this run (in test `child_uses_the_fixture`, after "
            ),
            "{text}"
        );
        assert!(
            text.contains("s): migration 7 failed: duplicate column `email`"),
            "{text}"
        );
    }
}

#[test]
fn a_wait_that_runs_out_names_the_initialising_test() {
    let runner = Runner::start();
    let mut slow = runner.test_process();
    slow.env(SLOW_MS, "3000");
    let slow = slow.spawn().unwrap();
    assert!(within(Duration::from_secs(20), || runner.inits().len() == 1));
    let mut impatient = runner.test_process();
    impatient.env("ISOLATE_TIMEOUT", "300ms");
    let output = support::run(&mut impatient, false);
    let text = support::text(&output);
    let initialiser = runner.inits()[0].0;
    assert!(
        text.contains(&format!(
            "timed out after 0.3s waiting for fixture `fixture-test-db`, which test \
             `child_uses_the_fixture` (pid {initialiser}) has been initialising for "
        )) && text.contains(
            "if its init is legitimately slow, the wait is `ISOLATE_TIMEOUT=300ms` (set in the \
             environment); raise it"
        ),
        "{text}"
    );
    // The slow init was not abandoned: it finishes, and its run uses it.
    let output = slow.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", support::text(&output));
    assert_eq!(runner.inits().len(), 1);
}

/// Where `child_holds_the_queue` signals that it holds the group, when it plays `hold`.
const HELD: &str = "FIXTURE_TEST_HELD";

/// Played by a re-run test process: holds the group `fixture-test-queue` for a second.
#[test]
#[isolated(serial = "fixture-test-queue")]
fn child_holds_the_queue() {
    if let Ok(path) = std::env::var(HELD) {
        std::fs::write(path, "").unwrap();
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Played by a re-run test process: queues for the group, then for the fixture.
#[test]
#[isolated(serial = "fixture-test-queue", fixture(db = DB))]
fn child_queues_then_uses_the_fixture() {
    assert!(running(db.pid));
}

#[test]
fn a_fixture_wait_gets_what_is_left_of_the_tests_timeout() {
    let runner = Runner::start();
    let mut slow = runner.test_process();
    slow.env(SLOW_MS, "5000");
    let slow = slow.spawn().unwrap();
    assert!(within(Duration::from_secs(20), || runner.inits().len() == 1));
    let held = runner.root.path().join("held");
    let mut holder = runner.test_process_of("child_holds_the_queue");
    holder.env(HELD, &held);
    let holder = holder.spawn().unwrap();
    assert!(within(Duration::from_secs(20), || held.exists()));
    // About 1s in the group's queue, then the fixture's: 2s in all, not 2s more.
    let mut waiter = runner.test_process_of("child_queues_then_uses_the_fixture");
    waiter.env("ISOLATE_TIMEOUT", "2s");
    let output = support::run(&mut waiter, false);
    let text = support::text(&output);
    let left: f64 = text
        .split("timed out after ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(left < 1.9, "waited {left}s for the fixture: {text}");
    assert!(
        text.contains(
            "s (what was left of the test's 2.0s timeout) waiting for fixture `fixture-test-db`"
        ),
        "{text}"
    );
    let output = holder.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", support::text(&output));
    let output = slow.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", support::text(&output));
}

fn panics(_: &mut Setup) -> Result<u32, InitError> {
    panic!("config file missing")
}

static PANICS: Fixture<u32> = Fixture::new("fixture-test-panics", panics);

#[test]
fn an_init_that_panics_is_a_recorded_failure() {
    for _ in 0..2 {
        let error = PANICS.get().unwrap_err().to_string();
        assert!(
            error.starts_with("fixture `fixture-test-panics` failed to start in this run (in test `an_init_that_panics_is_a_recorded_failure`, after "),
            "{error}"
        );
        assert!(
            error.ends_with("its init panicked: config file missing"),
            "{error}"
        );
    }
}

#[allow(clippy::unnecessary_wraps)] // the init's signature
fn forty_two(_: &mut Setup) -> Result<u32, InitError> {
    Ok(42)
}

#[allow(clippy::unnecessary_wraps)]
fn text(_: &mut Setup) -> Result<String, InitError> {
    Ok("never run".into())
}

static NUMBER: Fixture<u32> = Fixture::new("fixture-test-typed", forty_two);
/// The same name with another type: a build of the suite whose type changed.
static CHANGED: Fixture<String> = Fixture::new("fixture-test-typed", text);
static BAD_NAME: Fixture<u32> = Fixture::new("no spaces", forty_two);

#[test]
fn bad_input_is_a_clear_error() {
    assert_eq!(*NUMBER.get().unwrap(), 42);
    let error = CHANGED.get().unwrap_err();
    assert!(error.is_config());
    assert!(
        error.to_string().starts_with(
            "cannot read the value of fixture `fixture-test-typed` as `alloc::string::String`: invalid type"
        ),
        "{error}"
    );
    let error = BAD_NAME.get().unwrap_err();
    assert!(error.is_config());
    assert!(
        error
            .to_string()
            .starts_with("fixture name `no spaces` cannot name a lock file: "),
        "{error}"
    );
}

/// The attribute with a temp dir and a `Result`: the body moves into a closure, which takes
/// the fixture too.
#[test]
#[isolated(fixture(db = DB, number = NUMBER), tmpdir)]
fn binds_beside_other_resources() -> std::io::Result<()> {
    std::fs::write(tmpdir.join("url"), &db.url)?;
    assert_eq!(*number, 42);
    assert!(db.dir.is_dir());
    Ok(())
}

/// The initialising test process is killed (SIGKILL) mid-init (a runner's timeout, the OOM killer):
/// the next user is not left waiting, fails with what happened, and what the dead init started
/// is stopped then, not left running (holding its port and memory) until the run ends.
#[test]
fn an_init_killed_midway_fails_the_next_user_and_leaves_nothing_running() {
    let runner = Runner::start();
    let mut slow = runner.test_process();
    slow.env(SLOW_MS, "600000");
    let mut slow = support::KillOnDrop(slow.spawn().unwrap());
    assert!(within(Duration::from_secs(20), || runner.inits().len() == 1));
    let (initialiser, server) = runner.inits()[0];
    slow.0.kill().unwrap();
    slow.0.wait().unwrap();
    assert!(running(server), "the server outlives its test process");
    let output = support::run(&mut runner.test_process(), false);
    let text = support::text(&output);
    assert!(
        text.contains(
            "fixture `fixture-test-db` failed to start in this run (in test \
             `child_uses_the_fixture`, after "
        ) && text.contains(&format!(
            "s): the initialising test process (pid {initialiser}) died before the fixture was ready"
        )) && text.contains("not retried in this run"),
        "{text}"
    );
    assert!(!running(server), "the dead init's server still runs");
    let dirs: Vec<_> = std::fs::read_dir(runner.runs_dir())
        .unwrap()
        .flatten()
        .flat_map(|run| std::fs::read_dir(run.path()).unwrap().flatten())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("fixture-test-db.dir"))
        .collect();
    assert!(
        dirs.is_empty(),
        "the dead init's directories remain: {dirs:?}"
    );
    assert_eq!(runner.inits().len(), 1, "never retried");
}

/// Starts a process and makes a directory, under a name with a `/`, which names allow.
fn slashed(setup: &mut Setup) -> Result<PathBuf, InitError> {
    let server = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 600"]))?;
    server.wait_ready(ready::line("up").within("30s"))?;
    Ok(setup.dir()?)
}

static SLASHED: Fixture<PathBuf> = Fixture::new("fixture-test/slashed:name", slashed);

#[test]
fn a_name_with_a_slash_starts_its_processes_and_directories() {
    let dir = SLASHED.get().unwrap();
    assert!(dir.is_dir(), "{}", dir.display());
}

/// Which daemon `child_uses_a_daemon`'s init starts (see `start_daemon`).
const DAEMON_KIND: &str = "FIXTURE_TEST_DAEMON";

/// The daemon's script: `$0` is its pid file, written whole once it has left its group.
const DAEMON: &str = r#"echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 300"#;

/// Where the daemon of `DAEMONS` says its pid, and that pid once it did.
#[derive(Debug, Serialize, Deserialize)]
struct Daemon {
    pid_file: PathBuf,
    pid: Option<u32>,
}

/// Waits up to 30s for `path` to hold a pid.
fn pid_in(path: &std::path::Path) -> Option<u32> {
    let mut pid = None;
    within(Duration::from_secs(30), || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    });
    pid
}

/// Starts a server that daemonizes, as `DAEMON_KIND` says:
/// - `setsid`: the process isolate started forks the daemon, which leaves the group
///   (`setsid`) before its parent exits 0 (redis `daemonize yes`, `pg_ctl start`);
/// - `late`: the parent exits first, and the daemon leaves the group only after the init
///   returned (its group still had it when the init ended);
/// - `redis`: a real `redis-server --daemonize yes`;
/// - `double`: the classic double fork: the process that calls `setsid` forks the daemon and
///   exits, leaving the daemon in a group (and session) whose leader is gone;
/// - `dies`: as `setsid`, but the daemon exits before the init returns;
/// - `oneshot`: as `setsid`, run to its end by a one-shot step (`Command::status`, as
///   `pg_ctl start` is) in the init's directory, where the daemon works.
///
/// With `FAIL`, the init fails once the daemon is up.
fn start_daemon(setup: &mut Setup) -> Result<Daemon, InitError> {
    let kind = std::env::var(DAEMON_KIND)?;
    let dir = setup.dir()?;
    let pid_file = dir.join("daemon.pid");
    if kind == "redis" {
        let port = setup.reserved_port()?;
        let launcher = setup.spawn(
            redis_support::throwaway("redis-server", port, &dir)
                .args(["--daemonize", "yes", "--pidfile"])
                .arg(&pid_file),
        )?;
        ready::tcp(("127.0.0.1", port)).within("30s").wait()?;
        while launcher.try_status()?.is_none() {
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = pid_in(&pid_file);
        if let Ok(ms) = std::env::var(SLOW_MS) {
            std::thread::sleep(Duration::from_millis(ms.parse()?));
        }
        return Ok(Daemon { pid_file, pid });
    }
    let script = match kind.as_str() {
        "late" => {
            format!(r#"(sleep 0.5; exec setsid sh -c '{DAEMON}' "$0") >/dev/null 2>&1 & echo $!"#)
        }
        // The daemon's session leader forks it and exits: a group with no leader.
        "double" => format!(
            r#"setsid sh -c 'sh -c "$1" "$0" & exit' "$0" '{DAEMON}' &
            while [ ! -s "$0" ]; do sleep 0.01; done"#
        ),
        _ => format!(r#"setsid sh -c '{DAEMON}' "$0" & while [ ! -s "$0" ]; do sleep 0.01; done"#),
    };
    if kind == "oneshot" {
        Command::new("sh")
            .args(["-c", &script])
            .arg(&pid_file)
            .current_dir(&dir)
            .status()?;
        let pid = pid_in(&pid_file);
        if let Ok(ms) = std::env::var(SLOW_MS) {
            std::thread::sleep(Duration::from_millis(ms.parse()?));
        }
        return Ok(Daemon { pid_file, pid });
    }
    let launcher = setup.spawn(Command::new("sh").args(["-c", &script]).arg(&pid_file))?;
    let pid = if kind == "late" {
        Some(
            launcher
                .wait_line(ready::line("").within("30s"))?
                .trim()
                .parse()?,
        )
    } else {
        pid_in(&pid_file)
    };
    if let (Ok(path), Some(daemon)) = (std::env::var(COUNT), pid) {
        support::Log {
            path: PathBuf::from(path),
        }
        .append(&format!("{} {daemon}", std::process::id()));
    }
    // As with a real daemonizing server, the process isolate started is gone by now.
    while launcher.try_status()?.is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    if let Ok(ms) = std::env::var(SLOW_MS) {
        std::thread::sleep(Duration::from_millis(ms.parse()?));
    }
    if kind == "dies" {
        let daemon = pid.ok_or("no daemon")?;
        let _ = Command::new("kill").arg(daemon.to_string()).status();
        within(Duration::from_secs(30), || !running(daemon));
    }
    if std::env::var_os(FAIL).is_some() {
        return Err("migration 7 failed: duplicate column `email`".into());
    }
    Ok(Daemon { pid_file, pid })
}

static DAEMONS: Fixture<Daemon> = Fixture::new("fixture-test-daemon", start_daemon);

/// Played by a re-run test process: uses the daemon `DAEMON_KIND` says, and says its pid.
#[test]
fn child_uses_a_daemon() {
    if std::env::var_os(DAEMON_KIND).is_none() {
        return;
    }
    let daemon = DAEMONS.get().unwrap_or_else(|error| panic!("{error}"));
    let pid = daemon.pid.expect("the daemon's pid");
    assert!(running(pid), "the daemon runs");
    println!("daemon pid {pid} file {}", daemon.pid_file.display());
}

/// Runs `child_uses_a_daemon` in a run of its own with a daemon of `kind`: the daemon's pid,
/// once it has left its group, and the run.
fn daemon_of_a_run(kind: &str) -> (u32, Runner) {
    let runner = Runner::start();
    let mut command = runner.test_process_of("child_uses_a_daemon");
    command.env(DAEMON_KIND, kind);
    let text = support::text(&support::run(&mut command, true));
    let at = text.find("daemon pid ").expect(&text) + "daemon pid ".len();
    let mut words = text[at..].split_whitespace();
    let pid: u32 = words.next().unwrap().parse().unwrap();
    let pid_file = PathBuf::from(words.nth(1).unwrap());
    // The daemon has left its group (a `late` one only now, after its init returned).
    assert_eq!(pid_in(&pid_file), Some(pid), "{text}");
    assert!(running(pid), "the daemon runs after its test process ended");
    (pid, runner)
}

/// A daemon the run's watcher must stop: ours, so killed by pid if it did not (its parent is
/// init by now, so it leaves no zombie).
fn assert_stopped_with_the_run(kind: &str) {
    let (daemon, mut runner) = daemon_of_a_run(kind);
    runner.kill();
    let stopped = within(Duration::from_secs(10), || !running(daemon));
    if !stopped {
        let _ = Command::new("kill")
            .args(["-9", &daemon.to_string()])
            .status();
    }
    assert!(stopped, "a {kind} daemon outlived its run");
}

/// A server that daemonizes (fork, `setsid`, the parent exits 0) leaves its process group,
/// where the watcher's signal to the group does not reach: on Linux its init adopts it, so the
/// fixture works and the daemon is stopped with the run.
#[test]
fn a_server_that_daemonizes_is_adopted_and_stopped_with_the_run() {
    assert_stopped_with_the_run("setsid");
}

/// The daemon's parent exits before the daemon calls `setsid`, which it does only after the
/// init returned: it was still in its group when the init ended, yet is stopped with the run.
#[test]
fn a_daemon_that_leaves_its_group_after_the_init_is_stopped_with_the_run() {
    assert_stopped_with_the_run("late");
}

/// A real server started with its own `--daemonize yes`.
#[test]
fn redis_with_daemonize_yes_is_adopted_and_stopped_with_the_run() {
    assert_stopped_with_the_run("redis");
}

/// The classic double fork leaves the daemon in a group whose leader is gone, which it does
/// not lead: the watcher signals that group.
#[test]
fn a_double_forked_daemon_is_stopped_with_the_run() {
    assert_stopped_with_the_run("double");
}

/// An init that fails after its server daemonized has the daemon stopped at once, as its
/// other children are, not when the run ends.
#[test]
fn a_failed_init_stops_its_daemon_at_once() {
    let runner = Runner::start();
    let mut command = runner.test_process_of("child_uses_a_daemon");
    command.env(DAEMON_KIND, "setsid").env(FAIL, "1");
    let text = support::text(&support::run(&mut command, false));
    assert!(text.contains("migration 7 failed"), "{text}");
    // The pid file went with the init's directory: the init logged the daemon's pid.
    let inits = runner.inits();
    assert_eq!(inits.len(), 1, "{text}");
    let daemon = inits[0].1;
    let stopped = !running(daemon);
    if !stopped {
        let _ = Command::new("kill").arg(daemon.to_string()).status();
    }
    assert!(stopped, "the failed init's daemon still runs");
}

/// The initialising test process is killed after its server daemonized: its death handed the
/// daemon to init, out of every group isolate recorded, yet the next user stops it.
#[test]
fn an_init_killed_after_its_server_daemonized_leaves_nothing_running() {
    killed_after_daemonized("setsid");
}

/// As above, with a real redis, which overwrites its environment with its process title: the
/// next user finds it by its pid file in the init's directory.
#[test]
fn an_init_killed_after_redis_daemonized_leaves_nothing_running() {
    killed_after_daemonized("redis");
}

/// As above, with the classic double fork: the daemon leads no group, and its group's leader
/// is gone.
#[test]
fn an_init_killed_after_its_server_double_forked_leaves_nothing_running() {
    killed_after_daemonized("double");
}

/// As above, with a daemon started by a one-shot step before the init spawned anything (`pg_ctl
/// start` with its data directory in a `Setup::dir`): the next user finds it by its pid file.
#[test]
fn an_init_killed_after_a_one_shot_step_daemonized_leaves_nothing_running() {
    killed_after_daemonized("oneshot");
}

/// Kills a test process whose init has a daemon of `kind` running, then checks the next
/// user of the fixture stops that daemon.
fn killed_after_daemonized(kind: &str) {
    let runner = Runner::start();
    let mut slow = runner.test_process_of("child_uses_a_daemon");
    slow.env(DAEMON_KIND, kind).env(SLOW_MS, "600000");
    let mut slow = support::KillOnDrop(slow.spawn().unwrap());
    let mut pid_file = None;
    assert!(within(Duration::from_secs(30), || {
        pid_file = std::fs::read_dir(runner.runs_dir())
            .into_iter()
            .flatten()
            .flatten()
            .map(|run| run.path().join("fixture-test-daemon.dir0/daemon.pid"))
            .find(|path| path.exists());
        pid_file.is_some()
    }));
    let daemon = pid_in(&pid_file.unwrap()).unwrap();
    slow.0.kill().unwrap();
    slow.0.wait().unwrap();
    assert!(running(daemon), "the daemon outlives its test process");
    let mut next = runner.test_process_of("child_uses_a_daemon");
    next.env(DAEMON_KIND, kind);
    let text = support::text(&support::run(&mut next, false));
    assert!(text.contains("died before the fixture was ready"), "{text}");
    let stopped = !running(daemon);
    if !stopped {
        let _ = Command::new("kill").arg(daemon.to_string()).status();
    }
    assert!(stopped, "the dead init's daemon still runs");
}

/// A daemon that exited before its init returned leaves nothing running: the init fails,
/// saying what to look at, as a server that vanished does.
#[test]
fn a_daemon_gone_when_its_init_returns_fails_it_saying_so() {
    let runner = Runner::start();
    let mut command = runner.test_process_of("child_uses_a_daemon");
    command.env(DAEMON_KIND, "dies");
    let text = support::text(&support::run(&mut command, false));
    assert!(
        text.contains("fixture `fixture-test-daemon` failed to start in this run")
            && text.contains("exited with exit status: 0")
            && text.contains("left nothing running")
            && text.contains("If it daemonized"),
        "{text}"
    );
}

fn start_backgrounded(setup: &mut Setup) -> Result<u32, InitError> {
    let leader =
        setup.spawn(Command::new("sh").args(["-c", "sleep 60 >/dev/null 2>&1 & echo $!"]))?;
    let pid = leader.wait_line(ready::line(""))?;
    while leader.try_status()?.is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(pid.trim().parse()?)
}

static BACKGROUNDED: Fixture<u32> = Fixture::new("fixture-test-backgrounded", start_backgrounded);

/// A child that exits leaving its server in its process group (`sh -c 'server &'`) has not
/// escaped: the run's watcher stops that group, so the init stands.
#[test]
fn a_server_left_in_its_group_by_its_leader_is_not_taken_for_a_daemon() {
    let server = BACKGROUNDED.get().copied();
    let server = server.unwrap_or_else(|error| panic!("{error}"));
    assert!(running(server));
}

fn start_after_a_stopped_helper(setup: &mut Setup) -> Result<u32, InitError> {
    // A first server for a setup step (migrations, a bootstrap), stopped by the init itself.
    let helper = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 60"]))?;
    helper.wait_ready(ready::line("up"))?;
    helper.stop()?;
    let server = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 60"]))?;
    server.wait_ready(ready::line("up"))?;
    Ok(server.pid())
}

static AFTER_HELPER: Fixture<u32> =
    Fixture::new("fixture-test-after-helper", start_after_a_stopped_helper);

/// A process the init stopped itself is not one that vanished: the init stands.
#[test]
fn a_child_the_init_stopped_itself_does_not_fail_it() {
    let server = AFTER_HELPER.get().copied();
    assert!(running(server.unwrap_or_else(|error| panic!("{error}"))));
}

fn start_after_a_one_shot_step(setup: &mut Setup) -> Result<u32, InitError> {
    // A one-shot step (initdb, a migration) spawned on the setup, its status collected with
    // `stop` once it ended (it only reaps an exited child).
    let step = setup.spawn(Command::new("sh").args(["-c", "exit 0"]))?;
    while step.try_status()?.is_none() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(step.stop()?.success());
    let server = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 60"]))?;
    server.wait_ready(ready::line("up"))?;
    Ok(server.pid())
}

static AFTER_ONE_SHOT: Fixture<u32> =
    Fixture::new("fixture-test-after-one-shot", start_after_a_one_shot_step);

/// A one-shot step whose status the init collected is not a server that vanished: the init
/// stands.
#[test]
fn a_one_shot_step_the_init_collected_does_not_fail_it() {
    let server = AFTER_ONE_SHOT.get().copied();
    assert!(running(server.unwrap_or_else(|error| panic!("{error}"))));
}

/// The parent of `pid`, from `/proc/<pid>/stat`.
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A daemon that exits once `<its pid file>.stop` exists.
fn start_exiting_daemon(setup: &mut Setup) -> Result<Daemon, InitError> {
    let pid_file = setup.dir()?.join("daemon.pid");
    let script = r#"setsid sh -c 'echo $$ > "$0.tmp"; mv "$0.tmp" "$0"
        while [ ! -e "$0.stop" ]; do sleep 0.05; done' "$0" &
        while [ ! -s "$0" ]; do sleep 0.01; done"#;
    let launcher = setup.spawn(Command::new("sh").args(["-c", script]).arg(&pid_file))?;
    let pid = pid_in(&pid_file);
    while launcher.try_status()?.is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(Daemon { pid_file, pid })
}

static EXITING_DAEMON: Fixture<Daemon> =
    Fixture::new("fixture-test-exiting-daemon", start_exiting_daemon);

/// The test process adopts the daemon (its parent exited while the init ran): it reaps it
/// once it exits, so no zombie is left for the rest of the process's life (under `cargo test`,
/// the whole binary's run).
#[test]
fn an_adopted_daemon_is_reaped_when_it_exits() {
    let daemon = EXITING_DAEMON
        .get()
        .unwrap_or_else(|error| panic!("{error}"));
    let pid = daemon.pid.expect("the daemon's pid");
    assert_eq!(parent_of(pid), Some(std::process::id()), "not adopted");
    std::fs::write(format!("{}.stop", daemon.pid_file.display()), "").unwrap();
    assert!(
        within(Duration::from_secs(10), || parent_of(pid).is_none()),
        "the daemon is left a zombie (or still runs)"
    );
}

/// Where `start_window`'s init says it runs, and where it is told to return.
const WINDOW_STARTED: &str = "FIXTURE_TEST_WINDOW_STARTED";
const WINDOW_GO: &str = "FIXTURE_TEST_WINDOW_GO";

/// An init that holds its window open until told to return.
fn start_window(setup: &mut Setup) -> Result<u32, InitError> {
    let server = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 600"]))?;
    server.wait_ready(ready::line("up").within("30s"))?;
    std::fs::write(std::env::var(WINDOW_STARTED)?, "")?;
    let go = PathBuf::from(std::env::var(WINDOW_GO)?);
    if !within(Duration::from_secs(30), || go.exists()) {
        return Err("never told to return".into());
    }
    Ok(server.pid())
}

static WINDOW: Fixture<u32> = Fixture::new("fixture-test-window", start_window);

/// Played by a re-run test process: while the init runs, another thread (another test's)
/// starts a server in the background of a shell that exits, orphaning it.
#[test]
fn child_orphans_beside_an_init() {
    let Ok(started) = std::env::var(WINDOW_STARTED) else {
        return;
    };
    let go = std::env::var(WINDOW_GO).unwrap();
    let orphaner = std::thread::spawn(move || {
        assert!(within(Duration::from_secs(30), || std::path::Path::new(
            &started
        )
        .exists()));
        let output = Command::new("sh")
            .args(["-c", "sleep 300 >/dev/null 2>&1 & echo $!"])
            .output()
            .unwrap();
        let orphan: u32 = support::text(&output).trim().parse().unwrap();
        let parent = parent_of(orphan);
        std::fs::write(go, "").unwrap();
        (orphan, parent)
    });
    let server = WINDOW.get().unwrap_or_else(|error| panic!("{error}"));
    assert!(running(*server));
    let (orphan, parent) = orphaner.join().unwrap();
    println!(
        "orphan {orphan} adopted by {} me {}",
        parent.unwrap_or(0),
        std::process::id()
    );
    assert!(running(orphan), "the other test's orphan was stopped");
}

/// What a re-run test process printed as `orphan <pid> adopted by <parent> me <its pid>`.
fn orphan_report(text: &str) -> (u32, u32, u32) {
    let numbers: Vec<u32> = text
        .split("orphan ")
        .nth(1)
        .expect(text)
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .take(3)
        .collect();
    (numbers[0], numbers[1], numbers[2])
}

/// A process orphaned by another thread while an init runs is adopted by the test process (it
/// is the subreaper then) but is not the fixture's: it is neither stopped nor recorded for the
/// run's watcher.
#[test]
fn another_tests_orphan_adopted_during_an_init_is_left_alone() {
    let mut runner = Runner::start();
    let mut command = runner.test_process_of("child_orphans_beside_an_init");
    command
        .env(WINDOW_STARTED, runner.root.path().join("started"))
        .env(WINDOW_GO, runner.root.path().join("go"));
    let text = support::text(&support::run(&mut command, true));
    let (orphan, parent, me) = orphan_report(&text);
    let kill_orphan = || {
        let _ = Command::new("kill").arg(orphan.to_string()).status();
    };
    if parent != me {
        kill_orphan();
    }
    assert_eq!(
        parent, me,
        "the orphan was not adopted while the init ran: {text}"
    );
    runner.kill();
    let cleaned = within(Duration::from_secs(10), || {
        std::fs::read_dir(runner.runs_dir()).map_or(true, |mut d| d.next().is_none())
    });
    let left_alone = running(orphan);
    kill_orphan();
    assert!(cleaned, "the run's watcher did not finish");
    assert!(
        left_alone,
        "the run's watcher stopped another test's orphan"
    );
}

/// The pid of a process the test process started before `start_with_a_stale_pid_file`'s
/// init began: another test's server.
static OLDER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// An init whose directory holds a pid file it did not write for its tree: one copied in from
/// a template (a stale `postmaster.pid`), naming a pid another test's server has now. It fails.
fn start_with_a_stale_pid_file(setup: &mut Setup) -> Result<u32, InitError> {
    let dir = setup.dir()?;
    let older = OLDER.load(std::sync::atomic::Ordering::SeqCst);
    std::fs::write(dir.join("stale.pid"), format!("{older}\n"))?;
    let server = setup.spawn(Command::new("sh").args(["-c", "echo up; exec sleep 60"]))?;
    server.wait_ready(ready::line("up").within("30s"))?;
    Err("migration 7 failed: duplicate column `email`".into())
}

static STALE_PID_FILE: Fixture<u32> =
    Fixture::new("fixture-test-stale-pid-file", start_with_a_stale_pid_file);

/// A pid file in the init's directory ties a process to the init only if the process started
/// after the init began: another test's server, started before and named by a stale pid file
/// there, is not taken for the init's daemon, so the failed init's teardown leaves it running.
#[test]
fn a_stale_pid_file_does_not_tie_an_older_process_to_the_init() {
    use std::os::unix::process::CommandExt;
    // In a group of its own, as an `isolate::Child` or another fixture's server is.
    let mut older = support::KillOnDrop(
        Command::new("sleep")
            .arg("600")
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    OLDER.store(older.0.id(), std::sync::atomic::Ordering::SeqCst);
    // Start times count clock ticks: the init begins in a later one.
    std::thread::sleep(Duration::from_millis(50));
    let error = STALE_PID_FILE.get().unwrap_err().to_string();
    assert!(error.contains("migration 7 failed"), "{error}");
    assert!(
        older.0.try_wait().unwrap().is_none(),
        "the failed init stopped a process it did not start"
    );
}

/// An init with two children: a launcher whose daemon clears its environment (`env -i`) and
/// is tied to the init by its pid file alone, and a server that crashes before the init
/// returns.
fn start_beside_a_crash(setup: &mut Setup) -> Result<u32, InitError> {
    let pid_file = setup.dir()?.join("daemon.pid");
    let script = r#"setsid env -i sh -c 'echo $$ > "$0.tmp"; mv "$0.tmp" "$0"; exec sleep 600' "$0" &
        while [ ! -s "$0" ]; do sleep 0.01; done"#;
    let launcher = setup.spawn(Command::new("sh").args(["-c", script]).arg(&pid_file))?;
    let daemon = pid_in(&pid_file).ok_or("no daemon")?;
    let crashing = setup.spawn(Command::new("sh").args(["-c", "echo up; exit 3"]))?;
    crashing.wait_ready(ready::line("up").within("30s"))?;
    while launcher.try_status()?.is_none() || crashing.try_status()?.is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(daemon)
}

static BESIDE_A_CRASH: Fixture<u32> =
    Fixture::new("fixture-test-beside-a-crash", start_beside_a_crash);

/// A daemon tied to its init by a pid file alone may be of any child's tree, but only one that
/// exited successfully (as a launcher that daemonized does) is excused by it: a server that
/// crashed beside it still fails the init.
#[test]
fn a_daemon_found_by_its_pid_file_does_not_hide_a_crashed_server() {
    let outcome = BESIDE_A_CRASH.get().copied();
    let error = outcome.map_err(|error| error.to_string());
    assert!(
        error
            .as_ref()
            .is_err_and(|error| error.contains("exited with exit status: 3")),
        "{error:?}"
    );
}

/// An init that starts nothing through its `Setup` (it computes its value), during which its
/// own thread orphans a process, as another test's thread might: says the orphan's pid.
fn start_nothing(_: &mut Setup) -> Result<u32, InitError> {
    let output = Command::new("sh")
        .args(["-c", "sleep 300 >/dev/null 2>&1 & echo $!"])
        .output()?;
    Ok(support::text(&output).trim().parse()?)
}

static NOTHING: Fixture<u32> = Fixture::new("fixture-test-nothing", start_nothing);

/// Played by a re-run test process: says who adopted the orphan made during the init.
#[test]
fn child_orphans_during_an_init_that_starts_nothing() {
    if std::env::var_os(COUNT).is_none() {
        return;
    }
    let orphan = *NOTHING.get().unwrap_or_else(|error| panic!("{error}"));
    println!(
        "orphan {orphan} adopted by {} me {}",
        parent_of(orphan).unwrap_or(0),
        std::process::id()
    );
}

/// The test process is a subreaper only once its init starts something through `Setup` (a
/// process or a directory a server's pid file may be in): an init that starts nothing adopts
/// no other test's orphans, which would stay zombies of the test process once they exit.
#[test]
fn an_init_that_starts_nothing_adopts_no_orphan() {
    let runner = Runner::start();
    let mut command = runner.test_process_of("child_orphans_during_an_init_that_starts_nothing");
    let text = support::text(&support::run(&mut command, true));
    let (orphan, parent, me) = orphan_report(&text);
    // Ours: the re-run test process started it.
    let _ = Command::new("kill").arg(orphan.to_string()).status();
    assert_ne!(parent, me, "adopted by the test process: {text}");
}
