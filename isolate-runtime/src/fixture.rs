//! [`Fixture`]: one expensive value per run, started once across threads and processes.
//!
//! # How
//!
//! A run (see `run.rs`: one `cargo test` or one `cargo nextest run`) keeps, per fixture, in its
//! directory:
//!
//! - `<name>.lock`: whoever holds it exclusively decides; waiters queue in the kernel (a
//!   blocking `flock`, bounded: see below), not in a polling loop;
//! - `<name>.init`: written before the init runs (test, pid, start time), so a waiter that times
//!   out can say who is initialising and for how long, and the next holder of the lock sees an
//!   initialiser that died without a word (its lock died with it);
//! - `<name>.value` (the value as JSON) or `<name>.failed` (the failure), each written under a
//!   temporary name and renamed, so a reader sees all or nothing.
//!
//! [`Fixture::get`] reads the value file when it exists (no lock: the fast path of every test
//! but the first), else takes the lock, looks again, and runs the init only when neither file
//! nor an init record exists. So the init runs at most once per run, whatever the threads and
//! processes; a failure is recorded, never retried, and every later user fails at once with it.
//!
//! A blocking `flock` cannot be cancelled, so a bounded wait blocks on a duplicate of the lock's
//! descriptor in a helper thread: at the deadline the caller fails, and the helper unlocks as
//! soon as it gets the lock (when the init ends).

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_core::de::DeserializeOwned;
use serde_core::Serialize;

use crate::error::IoContext;
use crate::run::Run;
use crate::wait::{self, Mode};
use crate::{env, lockdir, sys, Error, Setup};

/// What a fixture's init returns on failure: any error (`?` converts yours).
pub type InitError = Box<dyn std::error::Error + Send + Sync>;

/// A value started once per run and shared by every test of it, in any thread or process: a
/// database with its migrations applied, a server, a built artifact.
///
/// Declare it as a `static` with a name and an init function; use it with
/// `#[isolated(fixture(db = DB))]` (binds `db: &T`) or [`get`](Fixture::get).
///
/// - **Once per run.** A run is one `cargo test` (all its test binaries) or one `cargo nextest
///   run` (all its processes); two runs at once each get their own. The init runs once, in the
///   first test that asks; every other test waits for it, bounded by what is left of its
///   `timeout` or `ISOLATE_TIMEOUT` (default 5 minutes, counted from the test's start, so time
///   spent queueing for its groups counts), then gets the same value. Other harnesses name
///   their run with `ISOLATE_RUN=<pid of a process that lives as long as the run>`.
/// - **As data.** The value crosses processes as JSON, so `T` derives `serde::Serialize` and
///   `serde::Deserialize`: connection strings, ports, paths; never handles.
/// - **Never twice.** An init that fails (returns `Err`, panics, its readiness wait runs out,
///   or a process it spawned is gone when it returns, leaving nothing running) has
///   what it started stopped and removed at once, and every later test of the run that uses
///   the fixture fails at once with ``fixture `db` failed to start in this run (in test
///   `X`, after 12.3s): <the original error>``. It is not retried within the run. An init whose
///   test process dies midway (SIGKILL, a runner's timeout, an abort) is a failure too: the
///   next test that asks has what it started stopped and removed, and fails saying so.
/// - **Not cancelled.** An init that never returns (a wait of its own without a limit) holds
///   its test until the runner's timeout ends it: nothing can interrupt it. The other users
///   fail at their own timeout naming it; once the runner has killed it, the next user finds
///   it died, as above.
/// - **Gone with the run.** What the init started through its [`Setup`] is stopped and removed
///   by a watcher process a few seconds after the runner exits, however it exits (SIGKILL
///   included). On Linux that includes a server that daemonizes during the init when isolate
///   can tie it to the init (redis `daemonize yes` with its `--pidfile` in a [`Setup::dir`],
///   `pg_ctl start` with its data directory there: see [`Setup::spawn`]). Elsewhere, and
///   when it cannot, a daemon escapes, and its init fails saying so.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Fixture, Setup};
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Data {
///     dir: std::path::PathBuf,
/// }
///
/// fn prepare(setup: &mut Setup) -> Result<Data, Box<dyn std::error::Error + Send + Sync>> {
///     let dir = setup.dir()?;
///     std::fs::write(dir.join("rows.csv"), "1,alice\n2,bob\n")?;
///     Ok(Data { dir })
/// }
///
/// static DATA: Fixture<Data> = Fixture::new("doc-data", prepare);
///
/// let data = DATA.get()?;
/// assert!(data.dir.join("rows.csv").is_file());
/// assert!(std::ptr::eq(data, DATA.get()?), "the same value, every time");
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub struct Fixture<T, F = InitFn<T>> {
    name: &'static str,
    init: F,
    /// This process's answer: the value, or the failure's whole message.
    answer: OnceLock<Result<T, String>>,
}

/// What starts a fixture: a fn that registers what it starts on the [`Setup`].
pub type InitFn<T> = fn(&mut Setup) -> Result<T, InitError>;

// `new` is generic over the init, and `Fixture`'s second parameter defaults to [`InitFn`], only
// because Rust before 1.83 refuses a `&mut` in a `const fn`'s signature, even inside a fn
// pointer type: a `static` names `Fixture<T>`, and the fn item coerces to the pointer.
impl<T, F> Fixture<T, F> {
    /// A fixture named `name` (1 to 64 of ASCII letters, digits, `_ - . : /`, like a group
    /// name: it names lock files), started by `init` (an [`InitFn`]).
    #[must_use]
    pub const fn new(name: &'static str, init: F) -> Self {
        Fixture {
            name,
            init,
            answer: OnceLock::new(),
        }
    }

    /// The fixture's name.
    #[must_use]
    pub const fn name(&self) -> &'static str {
        self.name
    }
}

impl<T> fmt::Debug for Fixture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Fixture<T> {
    /// The run's value: started by this call if no test of the run has started it, else
    /// waited for (up to `ISOLATE_TIMEOUT`, default 5 minutes) or read.
    ///
    /// # Errors
    ///
    /// When the init failed in this run (now or earlier, in any test process), when the wait
    /// for another test's init runs out (naming that test, its pid and for how long it has been
    /// initialising), when the value cannot be read back (its type changed between two builds
    /// of one run), and when the name cannot name a lock file.
    pub fn get(&'static self) -> Result<&'static T, Error> {
        let timeout = env::timeout()?.unwrap_or(crate::DEFAULT_TIMEOUT);
        let thread = std::thread::current();
        self.get_for(thread.name().unwrap_or("a test"), timeout, timeout)
    }

    /// [`get`](Fixture::get) for `test`, waiting at most `left`: what remains of the test's
    /// `timeout` (an init it starts has the whole `timeout` for its own waits).
    pub(crate) fn get_for(
        &'static self,
        test: &str,
        left: Duration,
        timeout: Duration,
    ) -> Result<&'static T, Error> {
        if let Some(answer) = self.answer.get() {
            return answer
                .as_ref()
                .map_err(|failure| Error::refused(failure.clone()));
        }
        let answer = self.resolve(test, left, timeout)?;
        // Another thread may have answered meanwhile: the same run, so the same answer.
        let answer = self.answer.get_or_init(|| answer);
        answer
            .as_ref()
            .map_err(|failure| Error::refused(failure.clone()))
    }

    /// The run's answer, from its files or by running the init. `Err` for what is not the
    /// run's answer (a timeout, an unreadable file): those are this test's alone.
    fn resolve(
        &self,
        test: &str,
        left: Duration,
        timeout: Duration,
    ) -> Result<Result<T, String>, Error> {
        isolate_rules::check_group_name(self.name).map_err(|error| {
            Error::config(format!(
                "fixture name `{}` cannot name a lock file: {error}",
                self.name
            ))
        })?;
        let run = Run::current()?;
        let files = Files::new(&run.dir, self.name);
        if let Some(answer) = self.recorded(&files)? {
            return Ok(answer);
        }
        let Some(_lock) = lock_at(&files.lock, Instant::now() + left)? else {
            return Err(self.timed_out(&files, left, timeout));
        };
        if let Some(answer) = self.recorded(&files)? {
            return Ok(answer);
        }
        if let Ok(text) = fs::read_to_string(&files.init) {
            // The lock is free, the init record there and no outcome: its process died, and
            // what it started is still running.
            crate::setup::tear_down_dead(run, self.name);
            let init = InitRecord::parse(&text);
            let failure = Failure {
                seconds: init.elapsed().as_secs_f64(),
                test: init.test,
                error: format!(
                    "the initialising test process (pid {}) died before the fixture was ready \
                     (a runner's timeout, a signal or an abort: see that test's output); the \
                     fixture is not retried in this run, nor by a runner's retries: fix the \
                     init and start a new run",
                    init.pid
                ),
            };
            write_atomic(&files.failed, &failure.to_text())?;
            return Ok(Err(failure.message(self.name)));
        }
        write_atomic(&files.init, &InitRecord::me(test).to_text())?;
        let started = Instant::now();
        let mut setup = Setup::new(self.name, test, run, timeout)?;
        let outcome = catch_unwind(AssertUnwindSafe(|| (self.init)(&mut setup)));
        setup.adopt();
        let outcome = match outcome {
            Ok(Ok(value)) => match setup.vanished().first() {
                // What the tests would use is gone, or escaped where no teardown reaches it.
                Some((_, state)) => Err(format!(
                    "its init returned, but {state} and left nothing running: `Setup::spawn` is \
                     for processes that live as long as the run (run a one-shot step, like \
                     initdb or a migration, with `std::process::Command::status`). {ESCAPED}"
                )),
                None => serde_json::to_string(&value)
                    .map(|json| (value, json))
                    .map_err(|error| format!("its value cannot be serialised as JSON: {error}")),
            },
            Ok(Err(error)) => Err(with_escape_hint(error.to_string(), &setup)),
            Err(panic) => Err(format!("its init panicked: {}", panic_message(&*panic))),
        };
        match outcome {
            Ok((value, json)) => {
                setup.keep();
                write_atomic(&files.value, &json)?;
                Ok(Ok(value))
            }
            Err(error) => {
                setup.tear_down();
                let failure = Failure {
                    test: test.to_owned(),
                    seconds: started.elapsed().as_secs_f64(),
                    error,
                };
                write_atomic(&files.failed, &failure.to_text())?;
                Ok(Err(failure.message(self.name)))
            }
        }
    }

    /// The outcome recorded in the run's files, if there is one.
    fn recorded(&self, files: &Files) -> Result<Option<Result<T, String>>, Error> {
        match fs::read_to_string(&files.value) {
            Ok(json) => {
                return serde_json::from_str(&json)
                    .map(|value| Some(Ok(value)))
                    .map_err(|error| {
                        Error::config(format!(
                        "cannot read the value of fixture `{}` as `{}`: {error}; its type may have \
                         changed between two builds used in one run (rebuild every test binary \
                         before running them), its JSON is `{}`",
                        self.name,
                        std::any::type_name::<T>(),
                        files.value.display()
                    ))
                    })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::io(
                    format!("cannot read `{}`", files.value.display()),
                    e,
                ))
            }
        }
        match fs::read_to_string(&files.failed) {
            Ok(text) => Ok(Some(Err(Failure::parse(&text).message(self.name)))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(
                format!("cannot read `{}`", files.failed.display()),
                e,
            )),
        }
    }

    fn timed_out(&self, files: &Files, left: Duration, timeout: Duration) -> Error {
        let who = match fs::read_to_string(&files.init) {
            Ok(text) => {
                let init = InitRecord::parse(&text);
                format!(
                    "which test `{}` (pid {}) has been initialising for {:.1}s",
                    init.test,
                    init.pid,
                    init.elapsed().as_secs_f64()
                )
            }
            Err(_) => "whose initialising test is not known yet".to_owned(),
        };
        // Said only when the test's other waits took a visible part of its timeout.
        let waited = if timeout.saturating_sub(left) >= Duration::from_millis(50) {
            format!(
                "{:.1}s (what was left of the test's {:.1}s timeout)",
                left.as_secs_f64(),
                timeout.as_secs_f64()
            )
        } else {
            format!("{:.1}s", timeout.as_secs_f64())
        };
        Error::timeout(format!(
            "timed out after {waited} waiting for fixture `{}`, {who}; if its init is legitimately \
             slow, {}",
            self.name,
            env::raise_the_wait(),
        ))
    }
}

/// The run's files for one fixture.
struct Files {
    lock: PathBuf,
    init: PathBuf,
    value: PathBuf,
    failed: PathBuf,
}

impl Files {
    fn new(dir: &Path, name: &str) -> Files {
        let file = |ext: &str| dir.join(crate::setup::own_name(name, ext));
        Files {
            lock: file("lock"),
            init: file("init"),
            value: file("value"),
            failed: file("failed"),
        }
    }
}

/// Who is initialising, since when.
struct InitRecord {
    test: String,
    pid: String,
    /// Milliseconds since the epoch: the clock every process shares.
    since_ms: u128,
}

impl InitRecord {
    fn me(test: &str) -> InitRecord {
        InitRecord {
            test: test.to_owned(),
            pid: std::process::id().to_string(),
            since_ms: now_ms(),
        }
    }

    fn to_text(&self) -> String {
        format!("{}\n{}\n{}\n", self.pid, self.since_ms, self.test)
    }

    fn parse(record: &str) -> InitRecord {
        let mut lines = record.splitn(3, '\n');
        let pid = lines.next().unwrap_or_default().to_owned();
        let since_ms = lines
            .next()
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(now_ms);
        let test = lines.next().unwrap_or_default().trim_end().to_owned();
        InitRecord {
            test,
            pid,
            since_ms,
        }
    }

    fn elapsed(&self) -> Duration {
        let ms = now_ms().saturating_sub(self.since_ms);
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// A failed init, as recorded for the run.
struct Failure {
    test: String,
    seconds: f64,
    error: String,
}

impl Failure {
    fn to_text(&self) -> String {
        format!("{:.1}\n{}\n{}", self.seconds, self.test, self.error)
    }

    fn parse(record: &str) -> Failure {
        let mut lines = record.splitn(3, '\n');
        let seconds = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0.0);
        let test = lines.next().unwrap_or_default().to_owned();
        let error = lines.next().unwrap_or_default().to_owned();
        Failure {
            test,
            seconds,
            error,
        }
    }

    fn message(&self, fixture: &str) -> String {
        format!(
            "fixture `{fixture}` failed to start in this run (in test `{}`, after {:.1}s): {}",
            self.test, self.seconds, self.error
        )
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// Writes `path` whole or not at all: a reader never sees half of it.
fn write_atomic(path: &Path, text: &str) -> Result<(), Error> {
    let draft = path.with_extension(format!("{}.draft", lockdir::unique_name()));
    fs::write(&draft, text)
        .and_then(|()| fs::rename(&draft, path))
        .context(|| format!("cannot write `{}`", path.display()))
}

/// Takes the lock file at `path` exclusively, waiting until `deadline`; `None` when the time ran
/// out. Only the file that still has the name counts: one removed while we waited (a temp
/// cleaner, `rm -rf` of the run's directory) is locked by nobody who opens the path since, who
/// may be initialising now, so the wait goes on at the path.
fn lock_at(path: &Path, deadline: Instant) -> Result<Option<File>, Error> {
    loop {
        let lock = lockdir::lock_file(path)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if !lock_within(&lock, left).context(|| format!("cannot lock `{}`", path.display()))? {
            return Ok(None);
        }
        if sys::is_linked(&lock) {
            return Ok(Some(lock));
        }
    }
}

/// Takes `lock` exclusively, waiting in the kernel's queue at most `timeout`; false when the
/// time ran out.
fn lock_within(lock: &File, timeout: Duration) -> io::Result<bool> {
    /// What the helper thread got, or that the caller gave up. A mutex and a condvar, not a
    /// channel: a channel type instantiates all of std's channel flavours (see `sys::process`).
    enum Wait {
        Pending,
        Locked(io::Result<()>),
        GaveUp,
    }
    if wait::try_lock(lock, Mode::Exclusive)? {
        return Ok(true);
    }
    // A duplicate descriptor shares the open file description, hence the lock.
    let shared = lock.try_clone()?;
    let slot = Arc::new((Mutex::new(Wait::Pending), Condvar::new()));
    let helper = Arc::clone(&slot);
    crate::background::spawn(
        "isolate-fixture-wait".into(),
        Box::new(move || {
            let locked = rustix::fs::flock(&shared, rustix::fs::FlockOperation::LockExclusive);
            let (state, changed) = &*helper;
            let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(*state, Wait::GaveUp) {
                // The waiter gave up: hand the lock straight on.
                let _ = rustix::fs::flock(&shared, rustix::fs::FlockOperation::Unlock);
            } else {
                *state = Wait::Locked(locked.map_err(io::Error::from));
                changed.notify_all();
            }
        }),
    )?;
    let (state, changed) = &*slot;
    let state = state.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut state, _) = changed
        .wait_timeout_while(state, timeout, |state| matches!(state, Wait::Pending))
        .unwrap_or_else(PoisonError::into_inner);
    match std::mem::replace(&mut *state, Wait::GaveUp) {
        Wait::Locked(locked) => locked.map(|()| true),
        Wait::Pending | Wait::GaveUp => Ok(false),
    }
}

/// Why a child that exited 0 and left nothing running is suspect. On Linux a daemon is
/// adopted when it can be tied to the init (see `Setup::adopt`): this one could not.
#[cfg(any(target_os = "linux", target_os = "android"))]
const ESCAPED: &str = "If it daemonized (redis `daemonize yes`, `pg_ctl start`, a `--daemon` \
     flag), no daemon runs now that isolate can tie to this init: it exited (see its log), or \
     it overwrote its environment (redis and postgres do) and has no pid file in a directory \
     of `Setup::dir` (redis `--pidfile`, postgres's data directory), where isolate looks; then \
     it may be running now and will not be stopped when the run ends. Otherwise run it in the \
     foreground (`daemonize no`, `postgres -D`).";

/// Why a child that exited 0 and left nothing running is suspect.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const ESCAPED: &str = "If it daemonized (redis `daemonize yes`, `pg_ctl start`, a `--daemon` \
     flag), the server left its process group, where isolate cannot stop it on this system \
     (only Linux adopts daemons): it may be running now and will not be stopped when the run \
     ends; run it in the foreground (`daemonize no`, `postgres -D`).";

/// A failed init's error, plus why, when a child exited successfully and left nothing running:
/// the probe that failed was likely waiting for a server that daemonized.
fn with_escape_hint(error: String, setup: &Setup) -> String {
    match setup.vanished().into_iter().find(|(success, _)| *success) {
        Some((_, state)) => format!("{error}; {state} and left nothing running. {ESCAPED}"),
        None => error,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    crate::panic_message::text(payload)
        .unwrap_or_else(|| "a panic with a payload that is not text".to_owned())
}

/// The value for a test's `fixture(db = DB)`, for generated code: fails the test with the error.
#[doc(hidden)]
#[track_caller]
#[must_use]
pub fn fixture<T: Serialize + DeserializeOwned + Send + Sync + 'static>(
    guard: &crate::TestGuard,
    fixture: &'static Fixture<T>,
) -> &'static T {
    // The test's timeout counts from its start: time spent in its groups' queues is gone.
    let (deadline, timeout) = guard.wait_budget();
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    match fixture.get_for(guard.test(), left, timeout) {
        Ok(value) => value,
        Err(error) => panic!("isolate: {error}"),
    }
}

/// A fixture binding's placeholder beside a compile error: typed by the static, never run.
#[doc(hidden)]
#[must_use]
pub fn fixture_unavailable<T>(_fixture: &'static Fixture<T>) -> &'static T {
    crate::fallback::unavailable()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A waiter whose lock file was removed while it waited does not take the lock beside
    /// whoever locked the file that has the name now.
    #[test]
    fn a_fixture_lock_removed_while_waited_for_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.lock");
        let holder = lockdir::lock_file(&path).unwrap();
        assert!(wait::try_lock(&holder, Mode::Exclusive).unwrap());
        let waiter = std::thread::spawn({
            let path = path.clone();
            move || {
                let deadline = Instant::now() + Duration::from_millis(500);
                lock_at(&path, deadline).unwrap().is_some()
            }
        });
        // Give the waiter time to open the file (had it not yet, it opens the new one, and
        // this passes without showing anything).
        std::thread::sleep(Duration::from_millis(100));
        fs::remove_file(&path).unwrap();
        let newcomer = lockdir::lock_file(&path).unwrap();
        assert!(wait::try_lock(&newcomer, Mode::Exclusive).unwrap());
        drop(holder);
        assert!(!waiter.join().unwrap(), "took the removed file's lock");
    }
}
