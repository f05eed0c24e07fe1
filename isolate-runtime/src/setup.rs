//! [`Setup`]: what a fixture's init gets to start things that live as long as the run.

use std::io::Write;
use std::path::PathBuf;
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
/// removes what it started (on Linux, with its daemons that kept their environment, and
/// those named by a pid file in one of its directories that they work in, as redis `--dir`
/// and postgres's data directory are: see [`spawn`](Setup::spawn)). (One gap: a death in
/// the microseconds between a process's start and its record, written at once after, leaves
/// that process unknown, hence running.)
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
    /// What the children's processes carry in their environment as [`TREE`] (Linux), plus
    /// `#<index of the child>`: what proves a process we did not start is theirs.
    tree: String,
    /// Open from the init's first [`spawn`](Setup::spawn) or [`dir`](Setup::dir) until it
    /// returns (Linux): see [`Setup::adopt`]. Not before: while it is open, every other test's
    /// orphan is the test process's too, a zombie once it exits.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    subreaper: Option<sys_process::Subreaper>,
    /// When the init began, as a process's start time counts ([`sys_process::ticks_since_boot`]):
    /// no process of its tree started before.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    began: Option<u64>,
    /// The processes that escaped the children's groups, found by [`Setup::adopt`]: the group
    /// each is recorded under for the watcher (`<pid> <start>`, as a child is) and the index
    /// of the child whose tree it is of (unknown for one found by its pid file).
    escaped: Vec<(u32, String, Option<usize>)>,
}

/// The variable a fixture's children carry in their environment, inherited by every process
/// they start, daemons included: `<test pid>-<its start time>:<fixture>#<child index>`.
const TREE: &str = "ISOLATE_FIXTURE_TREE";

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
            tree: format!(
                "{}-{}:{fixture}#",
                std::process::id(),
                sys_process::start_time(std::process::id()).unwrap_or_default()
            ),
            #[cfg(any(target_os = "linux", target_os = "android"))]
            subreaper: None,
            #[cfg(any(target_os = "linux", target_os = "android"))]
            began: sys_process::ticks_since_boot(),
            escaped: Vec::new(),
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
        // A server started by a one-shot step may write its pid file here.
        self.open_window()?;
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
    /// A server that daemonizes (redis `daemonize yes`, `pg_ctl start`, a `--daemon` flag:
    /// fork, `setsid`, the parent exits) leaves this process group. On Linux it is adopted all
    /// the same, and stopped with the run (or at once if the init fails): from the init's
    /// first `spawn` or [`dir`](Setup::dir) until it returns, its test process is a child
    /// subreaper (the orphans of what is spawned here, or of a one-shot step like `pg_ctl
    /// start`, are reparented to it), and when the init returns, the processes below it that
    /// left their group are taken if they prove to be of this init's tree, by either of:
    ///
    /// - the variable `ISOLATE_FIXTURE_TREE` in the environment they started with, which every
    ///   process spawned here gets and hands down (many servers, redis and postgres among
    ///   them, overwrite theirs with their process title, so for them:)
    /// - their pid in a `*.pid` file in one of the init's [`dir`](Setup::dir)s or their
    ///   subdirectories (redis `--pidfile <dir>/redis.pid`, postgres's `postmaster.pid` in a
    ///   data directory there), for a process that started after the init began (a stale
    ///   pid file, copied in with a template, may name another test's older process).
    ///
    /// Not adopted: a daemon that has neither, and one forked after the init returned (by a
    /// launcher still running then); wait in the init for the server to be up. What another
    /// test of the process orphans meanwhile is reparented to the test process too,
    /// and left alone: it runs on, and once it exits it stays a zombie until the test process
    /// ends (nothing tells it from a child another test will wait for); so does an adopted
    /// daemon found by its pid file alone that exits while the test process runs, and one
    /// that left its group and exited before the init returned (a redis that daemonized, then
    /// failed to bind its port): a zombie shows no environment.
    ///
    /// Elsewhere a daemon escapes, where nothing can stop it: run the server in the foreground
    /// (redis `daemonize no`, `postgres -D`). Either way, an init whose spawned process exited
    /// by itself, leaving nothing of it running, fails, saying so.
    ///
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
        self.open_window()?;
        if cfg!(any(target_os = "linux", target_os = "android")) {
            if self.children.is_empty() {
                // For `tear_down_dead`: what this init's tree carries, should it die midway.
                self.note(&format!("tree {}", self.tree))?;
            }
            command.env(TREE, format!("{}{}", self.tree, self.children.len()));
        }
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
    /// nothing running in their process group, nor a daemon that [`adopt`](Setup::adopt) found:
    /// whether each exited successfully, and its state ("child `cmd` (pid 42) exited with ...").
    pub(crate) fn vanished(&self) -> Vec<(bool, String)> {
        self.children
            .iter()
            .enumerate()
            .filter(|(_, child)| !child.stopped())
            .filter_map(|(index, child)| {
                let status = child.try_status().ok()??;
                // A daemon found by its pid file may be of the tree of any child that exited
                // successfully, as one that daemonized does; one that failed is not excused.
                let adopted = self
                    .escaped
                    .iter()
                    .any(|(_, _, of)| of.map_or(status.success(), |of| of == index));
                if adopted || sys_process::group_outlives_leader(child.pid()) {
                    return None;
                }
                Some((status.success(), child.state()))
            })
            .collect()
    }

    /// Makes the test process a subreaper until the init returns (Linux), if it is not yet.
    /// The first time, notes when the init began, for [`tear_down_dead`]: a one-shot step
    /// (`pg_ctl start`) may start a daemon before any child, or with none.
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android")),
        allow(clippy::unused_self, clippy::unnecessary_wraps)
    )]
    fn open_window(&mut self) -> Result<(), Error> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.subreaper.is_none() {
            self.subreaper = Some(sys_process::Subreaper::start());
            if let Some(began) = self.began {
                self.note(&format!("began {began}"))?;
            }
        }
        Ok(())
    }

    /// The init returned (or panicked): stops being a subreaper, and finds the processes of
    /// its children's trees that left their groups (daemons: fork, `setsid`, the parent exits)
    /// and records them for the run's watcher, as its children are. Linux only: elsewhere a
    /// daemon escapes, and the init fails saying so (see `fixture.rs`).
    ///
    /// A process is taken only on proof that it is of the init's tree: it descends from this
    /// process (the subreaper adopted the orphans of the init's tree, and a child that still
    /// runs is the parent of its own), and either carries this init's [`TREE`] value in its
    /// environment or, having started after the init began, has its pid in a `*.pid` file in
    /// a directory of this init's (where the init's tree writes: redis `--pidfile`, postgres's
    /// `postmaster.pid`, for servers that overwrite their environment with their process
    /// title; a stale file copied in may name an older process). Another test's orphan,
    /// adopted by this process while the init ran, has neither: it is left alone, running
    /// (and, once it exits, a zombie until this process ends: nothing tells it from a child
    /// another test will wait for). What carries the variable is reaped when it exits.
    #[cfg_attr(
        not(any(target_os = "linux", target_os = "android")),
        allow(clippy::unused_self)
    )]
    pub(crate) fn adopt(&mut self) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            // Closed first: an orphan adopted after the scan would be found by nobody. Never
            // opened: the init started nothing that could have daemonized.
            if self.subreaper.take().is_none() {
                return;
            }
            for (group, start, index) in self.find_escaped() {
                let registered = self
                    .run
                    .register_child(group, &start)
                    .and_then(|()| self.note(&format!("child {group} {start}")));
                if let Err(error) = registered {
                    eprintln!("isolate: {error}");
                }
                self.escaped.push((group, start, index));
            }
        }
    }

    /// What [`adopt`](Setup::adopt) records: `(group, its leader's start time, the index of the
    /// child whose tree it is of, if known)`. Reaps, or has reaped once they exit, the processes
    /// of the init's tree that this process adopted.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn find_escaped(&self) -> Vec<(u32, String, Option<usize>)> {
        let me = std::process::id();
        let Some(all) = sys_process::processes() else {
            return Vec::new();
        };
        let leaders: Vec<u32> = self.children.iter().map(|child| child.pid()).collect();
        let my_session = all.iter().find(|p| p.pid == me).map(|p| p.session);
        // Our descendants: what a child started, or an orphan we adopted.
        let mut descendants = vec![me];
        let mut grown = true;
        while grown {
            grown = false;
            for process in &all {
                if descendants.contains(&process.parent) && !descendants.contains(&process.pid) {
                    descendants.push(process.pid);
                    grown = true;
                }
            }
        }
        let in_pid_files = pids_in_pid_files(&self.dirs);
        let mut ours = Vec::new();
        for process in &all {
            if process.pid == me
                || !descendants.contains(&process.pid)
                || leaders.contains(&process.pid)
            {
                continue;
            }
            // A zombie has no environment left: it shows no variable.
            let index = sys_process::environment_variable(process.pid, TREE)
                .and_then(|value| value.strip_prefix(&self.tree)?.parse::<usize>().ok());
            // A pid file proves less: one copied in from a template (a stale `postmaster.pid`)
            // may name another test's process, which started before the init (the clocks
            // tick in hundredths of a second: one tick of slack).
            let since_init = || {
                let start = process.start.parse::<u64>().ok();
                start
                    .zip(self.began)
                    .is_some_and(|(start, began)| start + 1 >= began)
            };
            if index.is_none()
                && (process.zombie || !in_pid_files.contains(&process.pid) || !since_init())
            {
                continue;
            }
            // Reaped only when the variable proves that this process did not start it itself
            // (what it starts does not carry it): a child of ours found by a pid file alone
            // may have a handle that will wait for it, and a reaped pid is free for another.
            if process.parent == me && index.is_some() {
                sys_process::reap_adopted(process.pid);
            }
            ours.push((process, index));
        }
        let mut found = Vec::new();
        for (process, index) in ours {
            // Recorded even when it leads no group yet: one caught before its `setsid` leads
            // its own once it calls it, and a group that does not exist is signalled in vain.
            found.push((process.pid, process.start.clone(), index));
            let group = process.group;
            if group == process.pid
                || leaders.contains(&group)
                || found.iter().any(|f| f.0 == group)
            {
                continue;
            }
            // A session led by a process that is gone (or our zombie): every member descends
            // from its leader, and a leader that is not our ancestor (our session is not its)
            // descends from the child. The kernel hands out no pid while a group of it exists,
            // so `-` (no process's start time) names the group while no process has its id.
            let leader = all.iter().find(|p| p.pid == group);
            let leader_ours = leader.map_or(true, |p| p.zombie && p.parent == me);
            if process.session == group && Some(group) != my_session && leader_ours {
                let start = match leader {
                    Some(_) if index.is_some() => {
                        sys_process::reap_adopted(group);
                        "-".to_owned()
                    }
                    Some(zombie) => zombie.start.clone(),
                    None => "-".to_owned(),
                };
                found.push((group, start, index));
            }
        }
        // Zombies we adopted from the children's groups (the shell that ran a daemon's
        // launcher, whose parent exited first): no one else will reap them.
        for process in &all {
            if process.zombie
                && process.parent == me
                && leaders.contains(&process.group)
                && !leaders.contains(&process.pid)
            {
                sys_process::reap_adopted(process.pid);
            }
        }
        found
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

    /// The init failed: stops its children and what escaped them, and removes its directories
    /// now.
    pub(crate) fn tear_down(self) {
        let escaped: Vec<(u32, &str)> = self
            .escaped
            .iter()
            .map(|(group, start, _)| (*group, start.as_str()))
            .collect();
        stop_groups(&escaped);
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

/// Stops the groups led by `recorded` leaders (`(pid, start time)`) as the watcher does:
/// SIGTERM to those whose leader still has its recorded start time (not a reused pid), up to
/// [`DEFAULT_GRACE`](crate::DEFAULT_GRACE) for them to exit, then SIGKILL to what is left of
/// every group that is still ours.
fn stop_groups(recorded: &[(u32, &str)]) {
    if recorded.is_empty() {
        return;
    }
    // A recorded process that leads no group (a server's worker, a daemon caught before its
    // `setsid`) goes with the group it is in: not waited for here.
    let leaders: Vec<u32> = recorded
        .iter()
        .filter(|(pid, start)| sys_process::start_time(*pid).as_deref() == Some(*start))
        .map(|(pid, _)| *pid)
        .filter(|pid| sys_process::leads_group(*pid))
        .collect();
    for pid in &leaders {
        let _ = sys_process::signal_group(*pid, Stop::Term);
    }
    let deadline = Instant::now() + crate::DEFAULT_GRACE;
    while leaders.iter().any(|pid| sys_process::running(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Also the groups whose leader is gone: what is left in them is ours.
    for (pid, start) in recorded {
        orphans::kill_group_if_ours(*pid, Some(start));
    }
}

/// The processes that carry `tree` (a [`TREE`] value, without the child's index) in their
/// environment, the daemons of an init whose process died (Linux): the groups they lead, with
/// their start times, and for a double fork's daemon (it leads no group, its session's leader
/// is gone) its group, named `-` as [`Setup::adopt`] names it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn daemons_of_tree(tree: &str) -> Vec<(u32, String)> {
    let all = sys_process::processes().unwrap_or_default();
    let my_session = all
        .iter()
        .find(|p| p.pid == std::process::id())
        .map(|p| p.session);
    let mut found: Vec<(u32, String)> = Vec::new();
    for process in all.iter().filter(|p| {
        !p.zombie
            && sys_process::environment_variable(p.pid, TREE)
                .is_some_and(|value| value.starts_with(tree))
    }) {
        let group = process.group;
        if group == process.pid {
            found.push((group, process.start.clone()));
        } else if process.session == group
            && Some(group) != my_session
            && !all.iter().any(|p| p.pid == group)
            && !found.iter().any(|f| f.0 == group)
        {
            // Every member of a session descends from its leader, which descends from the
            // init's child (the session is not the run's), so the group is the tree's.
            found.push((group, "-".to_owned()));
        }
    }
    found
}

/// Elsewhere no daemon is adopted.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn daemons_of_tree(_tree: &str) -> Vec<(u32, String)> {
    Vec::new()
}

/// The pids written in the `*.pid` files of `dirs` and their subdirectories (a server's data
/// directory). Only regular files, and only their start, are read: a FIFO of that name (no
/// server writes one, but a test may make anything in its directory) would block the init's
/// return for good, and symlinks lead out of the init's directories.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn pids_in_pid_files(dirs: &[PathBuf]) -> Vec<u32> {
    use std::io::Read;
    let entries = |dir: &PathBuf| -> Vec<(PathBuf, std::fs::FileType)> {
        std::fs::read_dir(dir).map_or_else(
            |_| Vec::new(),
            |entries| {
                entries
                    .flatten()
                    .filter_map(|entry| Some((entry.path(), entry.file_type().ok()?)))
                    .collect()
            },
        )
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        for (path, kind) in entries(dir) {
            if kind.is_dir() {
                files.extend(
                    entries(&path)
                        .into_iter()
                        .filter(|(_, kind)| kind.is_file())
                        .map(|(path, _)| path),
                );
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files
        .iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "pid"))
        .filter_map(|path| {
            let mut start = String::new();
            std::fs::File::open(path)
                .ok()?
                .take(64)
                .read_to_string(&mut start)
                .ok()?;
            start.lines().next()?.trim().parse().ok()
        })
        .collect()
}

/// The daemons of a dead init named by the pid files in its directories `dirs` (redis and
/// postgres overwrite the environment [`daemons_of_tree`] reads), and their start times. The
/// test process that proved them its descendants is gone, so a stale pid file could name a
/// stranger: taken are only processes that started since the init began (`since`) and work
/// in one of its directories (redis `--dir`, postgres's data directory).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn daemons_in_pid_files(dirs: &[PathBuf], since: u64) -> Vec<(u32, String)> {
    pids_in_pid_files(dirs)
        .into_iter()
        .filter(|pid| sys_process::running(*pid))
        .filter(|pid| {
            sys_process::working_dir(*pid)
                .is_some_and(|cwd| dirs.iter().any(|d| cwd.starts_with(d)))
        })
        .filter_map(|pid| {
            let start = sys_process::start_time(pid)?;
            // One tick of slack, as in `Setup::adopt`: the init's start is read from a clock
            // in hundredths of a second.
            (start.parse::<u64>().ok()? + 1 >= since).then_some((pid, start))
        })
        .collect()
}

/// Elsewhere no daemon is adopted.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn daemons_in_pid_files(_dirs: &[PathBuf], _since: u64) -> Vec<(u32, String)> {
    Vec::new()
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
    let mut recorded: Vec<(u32, &str)> = record
        .lines()
        .filter_map(|line| line.strip_prefix("child "))
        .filter_map(|rest| {
            let (pid, start) = rest.split_once(' ')?;
            Some((pid.parse().ok()?, start))
        })
        .collect();
    let dirs: Vec<PathBuf> = record
        .lines()
        .filter_map(|line| line.strip_prefix("dir "))
        .map(PathBuf::from)
        .collect();
    // The daemons its tree started, which its death handed to init: no process of its tree
    // started before the init began (or, recorded before it noted that, its first child).
    let mut daemons: Vec<(u32, String)> = record
        .lines()
        .filter_map(|line| line.strip_prefix("tree "))
        .flat_map(daemons_of_tree)
        .collect();
    let began = record
        .lines()
        .filter_map(|line| line.strip_prefix("began "));
    let starts = recorded.iter().map(|(_, start)| *start);
    if let Some(since) = began.chain(starts).filter_map(|s| s.parse().ok()).min() {
        daemons.extend(daemons_in_pid_files(&dirs, since));
    }
    recorded.extend(daemons.iter().map(|(pid, start)| (*pid, start.as_str())));
    stop_groups(&recorded);
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_file(&started);
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    /// A FIFO named like a pid file is not opened (which blocks until someone writes), nor is
    /// a file reached through a symlink; a real pid file is read.
    #[test]
    fn only_regular_pid_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(dir.path().join("blocked.pid"))
            .status()
            .unwrap();
        assert!(made.success());
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("outside.pid"), "7\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        std::fs::create_dir(dir.path().join("data")).unwrap();
        std::fs::write(dir.path().join("data/server.pid"), "42\nmore\n").unwrap();
        let dirs = vec![dir.path().to_owned()];
        let (sender, read) = std::sync::mpsc::channel();
        std::thread::spawn(move || sender.send(pids_in_pid_files(&dirs)));
        let pids = read
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("reading the pid files blocked on a FIFO");
        assert_eq!(pids, vec![42]);
    }
}
