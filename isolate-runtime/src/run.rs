//! The run a test process belongs to, and the watcher that cleans up after it.
//!
//! # What a run is
//!
//! One `cargo test` (all its test binaries, one after another) or one `cargo nextest run` (all
//! its test processes). Both runners are the ancestor of every test process of their run and
//! live until the run ends, so a run is named after its runner: the nearest ancestor process
//! whose program is `cargo-nextest` or `cargo`, identified by its pid *and* its start time (a
//! pid alone is reused). Two runs at once have two runners, hence two runs; a `cargo test`
//! started by a test of another run has its own `cargo`, hence its own run.
//!
//! Another harness (a script, a test binary run by hand) sets `ISOLATE_RUN` to the pid of a
//! process that lives as long as its run (`ISOLATE_RUN=$$` in a shell script). Without a runner
//! ancestor and without `ISOLATE_RUN`, the test process itself is the run.
//!
//! # Where a run keeps its things
//!
//! `<isolate dir>/runs/<runner pid>-<runner start>/`: the fixtures' lock and state files, their
//! directories, the output of their children and the list of those children (`children`, one
//! `<pid> <start time>` line each: the children, and on Linux the daemons their inits adopted,
//! see `Setup::adopt`; a start time of `-` names a group whose leader is gone, signalled while
//! no process has its id).
//!
//! # The watcher
//!
//! The first fixture of a run that starts anything starts the run's watcher: a small `/bin/sh`
//! script (no binary of ours could be found from an arbitrary test process), in a process group
//! of its own, detached from the test's output, so no runner waits for it or signals it with
//! the test. It checks once a second that the runner still has its recorded start time; when
//! the runner is gone, however it ended (a normal end, a failure, SIGKILL), it sends SIGTERM to
//! the process group of every listed child whose leader still has its recorded start time (a
//! reused pid is never signalled), gives them 3 seconds, sends SIGKILL to what is left, and
//! removes the run's directory. It holds the list of children open from its start (its stdin),
//! so a run directory removed by then (a CI job's `rm -rf "$TMPDIR"` right after the tests)
//! still has its children stopped. So everything a run started is gone at most about 4 seconds
//! after its runner.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::error::IoContext;
use crate::sys::process as sys_process;
use crate::{lockdir, Error};

/// Names a run by the pid of a process that lives as long as it, for harnesses other than
/// `cargo test` and `cargo nextest run`.
pub const RUN: &str = "ISOLATE_RUN";

/// The programs whose processes are runs.
const RUNNERS: [&str; 2] = ["cargo-nextest", "cargo"];

/// The run this process belongs to.
#[derive(Debug)]
pub(crate) struct Run {
    /// The runner's pid.
    pub(crate) pid: u32,
    /// The runner's start time, as [`sys_process::start_time`] gives it.
    pub(crate) start: String,
    /// `<root>/runs/<pid>-<start>`, created owner-only.
    pub(crate) dir: PathBuf,
}

impl Run {
    /// This process's run, found once.
    pub(crate) fn current() -> Result<&'static Run, Error> {
        static RUN_OF_PROCESS: OnceLock<Result<Run, String>> = OnceLock::new();
        RUN_OF_PROCESS
            .get_or_init(|| Run::find().map_err(|error| error.to_string()))
            .as_ref()
            .map_err(|message| Error::config(message.clone()))
    }

    fn find() -> Result<Run, Error> {
        let pid = match std::env::var(RUN).ok().filter(|v| !v.trim().is_empty()) {
            Some(value) => value
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|pid| sys_process::start_time(*pid).is_some())
                .ok_or_else(|| {
                    Error::config(format!(
                        "cannot use `{RUN}={value}`: expected the pid of a running process that \
                         lives as long as the run, like `{RUN}=$$` in a shell script"
                    ))
                })?,
            None => runner().unwrap_or_else(std::process::id),
        };
        let start = sys_process::start_time(pid).ok_or_else(|| {
            Error::refused(format!(
                "cannot read the start time of the runner (pid {pid})"
            ))
        })?;
        let token: String = start.chars().filter(char::is_ascii_alphanumeric).collect();
        let dir = lockdir::subdir("runs")?.join(format!("{pid}-{token}"));
        lockdir::open_private_dir(&dir)?;
        Ok(Run { pid, start, dir })
    }

    /// Adds a child (`start`: its start time) to the list the watcher stops when the run ends, starting the watcher if
    /// this is the run's first. Call it before the child starts anything others could see.
    pub(crate) fn register_child(&self, pid: u32, start: &str) -> Result<(), Error> {
        use std::io::Write;
        let path = self.dir.join("children");
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .context(|| format!("cannot open `{}`", path.display()))?;
        // One short write of a whole line: appends of concurrent writers never interleave.
        file.write_all(format!("{pid} {start}\n").as_bytes())
            .context(|| format!("cannot write `{}`", path.display()))
    }

    /// Starts the run's watcher unless someone has: the file `watcher` is created by exactly
    /// one process of the run.
    pub(crate) fn ensure_watcher(&self) -> Result<(), Error> {
        let marker = self.dir.join("watcher");
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&marker)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => {
                return Err(Error::io(
                    format!("cannot create `{}`", marker.display()),
                    e,
                ))
            }
        }
        let started = children_file(&self.dir)
            .and_then(|list| watcher_command(self.pid, &self.start, &self.dir, list).spawn());
        match started {
            // Never waited for: it outlives this process, and init reaps it.
            Ok(_watcher) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&marker);
                Err(Error::io("cannot start the run's watcher `/bin/sh`", e))
            }
        }
    }
}

/// The list of children of the run in `dir`, created empty if missing, for the watcher to hold:
/// read through it, the list outlives a removal of the run's directory.
fn children_file(dir: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(dir.join("children"))
}

/// The nearest ancestor that is a runner.
fn runner() -> Option<u32> {
    let mut pid = std::process::id();
    // Bounded: a cycle is impossible, but a broken `ps` must not loop us forever.
    for _ in 0..64 {
        let (parent, _) = sys_process::parent_and_name(pid)?;
        if parent <= 1 {
            return None;
        }
        let (_, name) = sys_process::parent_and_name(parent)?;
        if RUNNERS.contains(&name.as_str()) {
            return Some(parent);
        }
        pid = parent;
    }
    None
}

/// The watcher: `sh -c SCRIPT isolate-watcher <runner pid> <runner start> <run dir>`, its
/// stdin the run's list of children (`children`).
fn watcher_command(pid: u32, start: &str, dir: &Path, children: fs::File) -> Command {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(WATCHER)
        .arg("isolate-watcher")
        .arg(pid.to_string())
        .arg(start)
        .arg(dir)
        .stdin(children)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // Its own group: a runner's Ctrl-C or a test group's kill does not reach it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    command
}

/// The watcher's script (`started_at` and `ours`: see `sys_process::started_at_sh`). A group
/// counts as running while any process is in it, the leader or what it left behind.
const WATCHER: &str = concat!(
    sys_process::started_at_sh!(),
    r#"
runner=$1 token=$2 run=$3
while [ "$(started_at "$runner")" = "$token" ]; do sleep 1; done
# The list at its path, and as held on stdin since the start: a run directory removed by then
# (a CI job's `rm -rf "$TMPDIR"` as soon as the tests end) still has its children stopped.
children=$(cat "$run/children" 2>/dev/null; cat)
signal() {
    while read -r pid start; do
        if [ -n "$pid" ] && ours "$pid" "$start"; then kill -s "$1" -- "-$pid" 2>/dev/null; fi
    done <<EOF
$children
EOF
}
any_running() {
    while read -r pid start; do
        if [ -n "$pid" ] && ours "$pid" "$start" && kill -s 0 -- "-$pid" 2>/dev/null; then
            return 0
        fi
    done <<EOF
$children
EOF
    return 1
}
signal TERM
tries=0
while any_running && [ $tries -lt 30 ]; do sleep 0.1; tries=$((tries + 1)); done
signal KILL
rm -rf "$run"
"#
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The script reads a start time as the runtime does: they must agree or nothing is ever
    /// stopped.
    #[test]
    fn the_watcher_reads_start_times_like_the_runtime() {
        let script = format!(
            "{}\nstarted_at {}",
            WATCHER.split("while [").next().unwrap(),
            std::process::id()
        );
        let output = Command::new("/bin/sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            shown.trim(),
            sys_process::start_time(std::process::id()).unwrap()
        );
    }

    /// A fixture's child that exits by itself (`sh -c 'server &'`) leaves its group behind with
    /// no leader: the watcher stops that group too when the run ends.
    #[test]
    fn the_watcher_stops_a_group_whose_leader_is_gone() {
        use std::io::{BufRead, BufReader};
        let spawn_grouped = |script: &str| {
            let mut command = Command::new("/bin/sh");
            command
                .args(["-c", script])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            command.spawn().unwrap()
        };
        // The leader prints its server's pid, then exits when told.
        let mut leader = spawn_grouped("sleep 300 >/dev/null 2>&1 & echo $!; read _");
        let mut line = String::new();
        BufReader::new(leader.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let server: u32 = line.trim().parse().unwrap();
        let start = sys_process::start_time(leader.id()).unwrap();
        drop(leader.stdin.take());
        leader.wait().unwrap();
        let run = tempfile::tempdir().unwrap();
        fs::write(
            run.path().join("children"),
            format!("{} {start}\n", leader.id()),
        )
        .unwrap();
        let mut runner = Command::new("sleep").arg("300").spawn().unwrap();
        let runner_start = sys_process::start_time(runner.id()).unwrap();
        let mut watcher = watcher_command(runner.id(), &runner_start, run.path(), list(&run))
            .spawn()
            .unwrap();
        runner.kill().unwrap();
        runner.wait().unwrap();
        watcher.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while sys_process::running(server) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let left = sys_process::running(server);
        if left {
            // Ours: the group's id is not handed out while the server is in it.
            let _ = sys_process::signal_group(leader.id(), sys_process::Stop::Kill);
        }
        assert!(!left, "the server of a leaderless group outlived its run");
    }

    /// The run's list of children as the watcher gets it.
    fn list(run: &tempfile::TempDir) -> fs::File {
        children_file(run.path()).unwrap()
    }

    /// A `sleep 300` in a group of its own, listed in `run`'s children.
    fn listed_server(run: &tempfile::TempDir) -> std::process::Child {
        let mut command = Command::new("sleep");
        command.arg("300");
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let server = command.spawn().unwrap();
        let start = sys_process::start_time(server.id()).unwrap();
        fs::write(
            run.path().join("children"),
            format!("{} {start}\n", server.id()),
        )
        .unwrap();
        server
    }

    /// A stand-in runner and its start time.
    fn runner_stand_in() -> (std::process::Child, String) {
        let runner = Command::new("sleep").arg("300").spawn().unwrap();
        let start = sys_process::start_time(runner.id()).unwrap();
        (runner, start)
    }

    /// Whether `server` (our child) has exited, reaping it: waits until it has, or 30 s.
    fn stopped(server: &mut std::process::Child) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if server.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = server.kill();
        let _ = server.wait();
        false
    }

    /// A CI job that removes its temp directory as soon as the tests end removes the run's
    /// list of children before the watcher (which looks once a second) reads it: the watcher
    /// holds the list from its start, so the servers are stopped all the same.
    #[test]
    fn the_watcher_stops_the_children_of_a_run_whose_directory_was_removed() {
        let run = tempfile::tempdir().unwrap();
        let mut server = listed_server(&run);
        let (mut runner, runner_start) = runner_stand_in();
        let mut watcher = watcher_command(runner.id(), &runner_start, run.path(), list(&run))
            .spawn()
            .unwrap();
        fs::remove_dir_all(run.path()).unwrap();
        runner.kill().unwrap();
        runner.wait().unwrap();
        watcher.wait().unwrap();
        assert!(
            stopped(&mut server),
            "a server outlived its run, whose directory was removed"
        );
    }

    /// A test that empties `PATH` just as a fixture starts the watcher leaves it without
    /// `cat` and `sleep`: it must still wait for its runner, not take it for gone at once
    /// (which stopped the run's servers while the run went on), and then stop them.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_watcher_waits_for_its_runner_without_a_path() {
        let run = tempfile::tempdir().unwrap();
        let mut server = listed_server(&run);
        let (mut runner, runner_start) = runner_stand_in();
        let mut watcher = watcher_command(runner.id(), &runner_start, run.path(), list(&run))
            .env("PATH", "")
            .spawn()
            .unwrap();
        // Its `sleep 1` runs once it has seen the runner alive: then it is past the check that
        // mistook the runner for gone.
        let watcher_pid = watcher.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let sleeping = || {
            sys_process::processes()
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    p.parent == watcher_pid
                        && sys_process::parent_and_name(p.pid)
                            .is_some_and(|(_, name)| name == "sleep")
                })
        };
        while !sleeping()
            && watcher.try_wait().unwrap().is_none()
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let early = server.try_wait().unwrap().is_some() || watcher.try_wait().unwrap().is_some();
        runner.kill().unwrap();
        runner.wait().unwrap();
        watcher.wait().unwrap();
        assert!(
            !early,
            "the watcher stopped the run's servers while its runner ran"
        );
        assert!(stopped(&mut server), "a server outlived its run");
    }

    #[test]
    fn a_test_process_finds_its_runner() {
        // Under `cargo test` and `cargo nextest run` alike, some ancestor is a runner.
        if std::env::var_os("CARGO").is_some() {
            let pid = runner().expect("a runner ancestor");
            let (_, name) = sys_process::parent_and_name(pid).unwrap();
            assert!(RUNNERS.contains(&name.as_str()), "{name}");
        }
    }
}
