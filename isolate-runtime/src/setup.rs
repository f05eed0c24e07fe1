//! [`Setup`]: what a fixture's init gets to start things that live as long as the run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::child::Inner;
use crate::error::IoContext;
use crate::run::Run;
use crate::sys::process::{self as sys_process, Stop};
use crate::{orphans, Child, Error, ReservedPort};

/// What a [`Fixture`](crate::Fixture)'s init function gets: ports, directories and processes
/// that belong to the whole run (every test and test process of one `cargo test` or `cargo
/// nextest run`) rather than to one test.
///
/// Everything obtained here is released when the run ends (its runner exits, however it exits)
/// by the run's watcher, a few seconds later at most; and at once if the init fails (returns
/// `Err`, panics, or its readiness wait runs out), so a failed init leaves nothing behind. If
/// the init's test process dies midway, the next test that asks for the fixture stops and
/// removes what it started. (One gap: a death in the microseconds between a process's start
/// and its record, written at once after, leaves that process unknown, hence running.)
///
/// # Examples
///
/// ```no_run
/// use isolate_runtime::{ready, Fixture, Setup};
/// use std::process::Command;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Cache {
///     port: u16,
/// }
///
/// fn start_cache(setup: &mut Setup) -> Result<Cache, Box<dyn std::error::Error + Send + Sync>> {
///     let port = setup.reserved_port()?;
///     let dir = setup.dir()?;
///     let server = setup.spawn(
///         Command::new("redis-server")
///             .args(["--port", &port.to_string(), "--save", ""])
///             .current_dir(&dir),
///     )?;
///     server.wait_ready(ready::tcp(("127.0.0.1", port)).within("30s"))?;
///     Ok(Cache { port })
/// }
///
/// static CACHE: Fixture<Cache> = Fixture::new("cache", start_cache);
/// let port = CACHE.get()?.port;
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct Setup {
    fixture: &'static str,
    test: String,
    run: &'static Run,
    deadline: Instant,
    timeout: Duration,
    children: Vec<Arc<Inner>>,
    dirs: Vec<PathBuf>,
    ports: Vec<ReservedPort>,
    /// `<fixture>.started`: what this init started, for [`tear_down_dead`] should its process
    /// die before it ends.
    started: PathBuf,
}

impl Setup {
    pub(crate) fn new(
        fixture: &'static str,
        test: &str,
        run: &'static Run,
        timeout: Duration,
    ) -> Result<Setup, Error> {
        run.ensure_watcher()?;
        Ok(Setup {
            fixture,
            test: test.to_owned(),
            run,
            deadline: Instant::now() + timeout,
            timeout,
            children: Vec::new(),
            dirs: Vec::new(),
            ports: Vec::new(),
            started: run.dir.join(own_name(fixture, "started")),
        })
    }

    /// The fixture's name.
    #[must_use]
    pub fn fixture(&self) -> &'static str {
        self.fixture
    }

    /// The test whose use of the fixture runs this init.
    #[must_use]
    pub fn test(&self) -> &str {
        &self.test
    }

    /// A port number for a server that binds it itself, reserved against every other isolated
    /// test of the machine as a [`ReservedPort`] is, while this process lives; once the server
    /// has bound it, nobody else can.
    ///
    /// # Errors
    ///
    /// As [`ReservedPort::reserve`].
    pub fn reserved_port(&mut self) -> Result<u16, Error> {
        let port = ReservedPort::reserve_for(&self.test, self.deadline, self.timeout)?;
        let number = port.port();
        self.ports.push(port);
        Ok(number)
    }

    /// A fresh empty directory, owner-only, removed when the run ends.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn dir(&mut self) -> Result<PathBuf, Error> {
        let dir = self
            .run
            .dir
            .join(own_name(self.fixture, &format!("dir{}", self.dirs.len())));
        // Noted first: a directory made after its process died would be left behind.
        self.note(&format!("dir {}", dir.display()))?;
        crate::lockdir::open_private_dir(&dir)?;
        self.dirs.push(dir.clone());
        Ok(dir)
    }

    /// Starts `command` for the run: in a process group of its own, with stdin from
    /// `/dev/null` and stdout and stderr written to files in the run's directory (shown with
    /// the initialising test's output while the returned handle lives, and in error messages).
    ///
    /// Unlike [`Child::spawn`], the process outlives the handle and the test: dropping the
    /// handle leaves it running, for every test of the run. It is stopped when the run ends
    /// (SIGTERM to its group, 3 seconds, SIGKILL), or at once if this init fails.
    ///
    /// Run a server in the foreground (redis `daemonize no`, `postgres -D` rather than `pg_ctl
    /// start`): one that daemonizes leaves its process group, where nothing can stop it, so an
    /// init whose spawned process exited by itself, leaving nothing running, fails, saying so.
    /// Run a one-shot step (initdb, a migration) with [`Command::status`]; one spawned here
    /// has its status collected with [`Child::stop`] once it ended (that only reaps it).
    ///
    /// # Errors
    ///
    /// As [`Child::spawn`].
    pub fn spawn(&mut self, command: &mut Command) -> Result<Child, Error> {
        let program = command.get_program().to_string_lossy();
        let program: String = program
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let log = self.run.dir.join(own_name(
            self.fixture,
            &format!("{program}{}", self.children.len()),
        ));
        let child = Child::spawn_detached(command, &log)?;
        let start = sys_process::start_time(child.pid()).unwrap_or_default();
        let registered = self
            .run
            .register_child(child.pid(), &start)
            .and_then(|()| self.note(&format!("child {} {start}", child.pid())));
        if let Err(error) = registered {
            let _ = child.inner().stop();
            return Err(error);
        }
        self.children.push(child.inner());
        Ok(child)
    }

    /// The children that exited by themselves during the init (not stopped by it) and left
    /// nothing running in their process group: whether each exited successfully, and its state
    /// ("child `cmd` (pid 42) exited with ...").
    pub(crate) fn vanished(&self) -> Vec<(bool, String)> {
        self.children
            .iter()
            .filter(|child| !child.stopped())
            .filter_map(|child| {
                let status = child.try_status().ok()??;
                if sys_process::group_outlives_leader(child.pid()) {
                    return None;
                }
                Some((status.success(), child.state()))
            })
            .collect()
    }

    /// Appends `line` to the record of what this init started.
    fn note(&self, line: &str) -> Result<(), Error> {
        let path = &self.started;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            // One short write of a whole line, as the run's list of children.
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()))
            .context(|| format!("cannot write `{}`", path.display()))
    }

    /// The init succeeded: what it started now belongs to the run. Reserved numbers stay held
    /// while this process lives.
    pub(crate) fn keep(self) {
        static HELD: Mutex<Vec<ReservedPort>> = Mutex::new(Vec::new());
        HELD.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(self.ports);
    }

    /// The init failed: stops its children and removes its directories now.
    pub(crate) fn tear_down(self) {
        for child in self.children.iter().rev() {
            if let Err(error) = child.stop() {
                eprintln!("isolate: {error}");
            }
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = std::fs::remove_file(&self.started);
    }
}

/// `<fixture>.<what>`: a fixture's own file names in the run's directory. Fixture names may
/// hold `/`, file names may not.
pub(crate) fn own_name(fixture: &str, what: &str) -> String {
    format!("{}.{what}", fixture.replace('/', "%"))
}

/// The init of `fixture` died with its process (SIGKILL, an abort) before it ended: stops what
/// it started (SIGTERM to each process group, up to [`DEFAULT_GRACE`](crate::DEFAULT_GRACE),
/// then SIGKILL) and removes its directories, as a failed init does for itself. Called by the
/// next user, under the fixture's lock. Best effort: what it cannot stop, the run's watcher
/// stops when the run ends.
pub(crate) fn tear_down_dead(run: &Run, fixture: &str) {
    let started = run.dir.join(own_name(fixture, "started"));
    let Ok(record) = std::fs::read_to_string(&started) else {
        return;
    };
    let recorded: Vec<(u32, &str)> = record
        .lines()
        .filter_map(|line| line.strip_prefix("child "))
        .filter_map(|rest| {
            let (pid, start) = rest.split_once(' ')?;
            Some((pid.parse().ok()?, start))
        })
        .collect();
    // Leaders that still have their recorded start time: the same processes, not reused pids.
    let leaders: Vec<u32> = recorded
        .iter()
        .filter(|(pid, start)| sys_process::start_time(*pid).as_deref() == Some(*start))
        .map(|(pid, _)| *pid)
        .collect();
    for pid in &leaders {
        let _ = sys_process::signal_group(*pid, Stop::Term);
    }
    let deadline = Instant::now() + crate::DEFAULT_GRACE;
    while leaders.iter().any(|pid| sys_process::running(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Also the groups whose leader is gone: what is left in them is ours.
    for (pid, start) in &recorded {
        orphans::kill_group_if_ours(*pid, Some(start));
    }
    for dir in record.lines().filter_map(|line| line.strip_prefix("dir ")) {
        let _ = std::fs::remove_dir_all(Path::new(dir));
    }
    let _ = std::fs::remove_file(&started);
}
