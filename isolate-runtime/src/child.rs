//! [`Child`]: a process that belongs to a test.
//!
//! Stopping is graceful first (SIGTERM to the child's whole process group, a grace period,
//! then SIGKILL) and always reaps, so no zombie and no grandchild is left. `Drop` does the
//! same, so a child is stopped on pass, failure and panic. The deaths that skip `Drop` are
//! covered too: the parent-death signal and the watchdog (Linux), and the records of
//! `orphans.rs`.

use std::fmt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::orphans::{self, Record};
use crate::output::{self, Output, Stream};
use crate::ready::{Check, Line, Probe, Watch};
use crate::sys::process::{self as sys_process, Stop};
use crate::Error;

/// How long a child may take to exit after SIGTERM before it gets SIGKILL, unless
/// [`Child::grace`] says otherwise.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// How many of the last output lines an error message shows.
const TAIL_IN_ERRORS: usize = 20;

/// A process that belongs to a test: started in its own process group with its stdout and
/// stderr captured, and stopped (with its own children) when dropped or [`stop`](Child::stop)ped.
///
/// Its output goes through the test's own output capture, each line prefixed with the program
/// and pid (`python3[4242]: ...`): it shows with a failing test's output and not otherwise. The
/// last 200 lines are kept for [`output_tail`](Child::output_tail) and error messages; a line
/// is cut at 2,000 characters. Like the test's own prints, what the child prints is held in
/// memory by the runner that captures the test's output (libtest, nextest) until the test ends:
/// a child that logs gigabytes costs that much; turn its logging down, or run with
/// `--nocapture`.
///
/// No child outlives its test: on pass, failure or panic `Drop` stops it; if the test process
/// dies without running `Drop` (a runner's timeout, Ctrl-C, SIGKILL), on Linux its whole process
/// group (the child and what it started) is killed at once: the child by the parent-death
/// signal, the rest by a watchdog process, one per test process that starts children. On other
/// Unixes, and should the watchdog itself be killed, the next use of isolate on the machine
/// stops whatever is left of the group.
///
/// To hand a port number to a child that binds it itself, use a [`ReservedPort`](crate::ReservedPort);
/// a child that can bind port 0 and print the number it got is safer still: read it with
/// [`wait_line`](Child::wait_line).
///
/// # Examples
///
/// ```
/// use isolate_runtime::{ready, Child, ReservedPort};
/// use std::process::Command;
///
/// let port = ReservedPort::reserve()?;
/// // Any server will do; this one is a shell that says when it is up.
/// let server = Child::spawn(
///     Command::new("sh").args(["-c", &format!("echo listening on {}; sleep 30", port.port())]),
/// )?;
/// server.wait_ready(ready::line("listening on").within("10s"))?;
/// assert!(server.output_tail().contains(&port.port().to_string()));
/// let status = server.stop()?; // SIGTERM: the shell ends at once
/// assert!(!status.success());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub struct Child {
    inner: Arc<Inner>,
}

/// What the waits share with the child: async waits run on a helper thread.
pub(crate) struct Inner {
    pid: u32,
    command: String,
    started: Instant,
    grace: Mutex<Duration>,
    process: Mutex<Process>,
    pub(crate) output: Arc<Output>,
    /// Set for a fixture's child: its output files are followed until this says done.
    follow: Option<output::Follow>,
}

struct Process {
    child: std::process::Child,
    status: Option<ExitStatus>,
    readers: Vec<JoinHandle<()>>,
    record: Option<Record>,
    /// Whether `child` was reaped: before, its pid is ours (Linux: see `exit_status`).
    reaped: bool,
}

impl Child {
    /// The shared state, for a fixture's setup that must stop its children if it fails.
    #[cfg(feature = "fixture")]
    pub(crate) fn inner(&self) -> Arc<Inner> {
        Arc::clone(&self.inner)
    }

    /// Starts `command` as a child of the test: in a process group of its own, with stdout and
    /// stderr piped to isolate (anything set for them before is replaced). Stdin is left as the
    /// command says.
    ///
    /// # Errors
    ///
    /// Fails when the program cannot be started (missing, not executable, or its working
    /// directory missing), naming what is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// let error = isolate_runtime::Child::spawn(&mut std::process::Command::new("no-such-server"))
    ///     .unwrap_err();
    /// assert!(error.to_string().starts_with("cannot start `no-such-server`"));
    /// ```
    pub fn spawn(command: &mut Command) -> Result<Child, Error> {
        Child::start(command, None)
    }

    /// Starts `command` for a run-wide fixture: no parent-death signal and no orphan record
    /// (its run's watcher stops it when the run ends), stdin from `/dev/null`, stdout and
    /// stderr appended to `<log>.out` and `<log>.err` (a pipe would die with this process),
    /// which are followed for [`wait_ready`](Child::wait_ready) and messages until the handle
    /// drops. Dropping the handle leaves the process running.
    #[cfg(feature = "fixture")]
    pub(crate) fn spawn_detached(
        command: &mut Command,
        log: &std::path::Path,
    ) -> Result<Child, Error> {
        command.stdin(Stdio::null());
        Child::start(command, Some(log))
    }

    fn start(command: &mut Command, log: Option<&std::path::Path>) -> Result<Child, Error> {
        orphans::sweep();
        let shown = show(command);
        let follow = if let Some(log) = log {
            Some(output::Follow::create(command, log)?)
        } else {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            None
        };
        let mut child = sys_process::spawn_tied(command, follow.is_none()).map_err(|error| {
            // A missing working directory fails with the same `ENOENT` as a missing program.
            let missing_dir = command.get_current_dir().filter(|dir| !dir.is_dir());
            let hint = match (error.kind(), missing_dir) {
                (std::io::ErrorKind::NotFound, Some(dir)) => {
                    format!("; its working directory `{}` does not exist", dir.display())
                }
                (std::io::ErrorKind::NotFound, None) => {
                    "; check the program's name, or give its path or put it on `PATH`".to_owned()
                }
                (std::io::ErrorKind::PermissionDenied, _) => {
                    "; check that the file is executable".to_owned()
                }
                _ => String::new(),
            };
            Error::io(format!("cannot start `{shown}`{hint}"), error)
        })?;
        let pid = child.id();
        // The record comes first: if it cannot be written, the child must not run unrecorded.
        let record = match follow {
            Some(_) => None,
            None => match Record::create(
                pid,
                &sys_process::start_time(pid).unwrap_or_default(),
                &shown,
            ) {
                Ok(record) => Some(record),
                Err(error) => {
                    let _ = sys_process::signal_group(pid, Stop::Kill);
                    let _ = child.wait();
                    return Err(error);
                }
            },
        };
        let program = command.get_program().to_string_lossy();
        let program = program.rsplit('/').next().unwrap_or_default();
        let label = format!("{program}[{pid}]");
        let output = Arc::new(Output::default());
        let mut readers = Vec::new();
        let pipes = match &follow {
            Some(follow) => follow.readers(),
            None => [
                child
                    .stdout
                    .take()
                    .map(|p| (Box::new(p) as Box<dyn std::io::Read + Send>, Stream::Stdout)),
                child
                    .stderr
                    .take()
                    .map(|p| (Box::new(p) as Box<dyn std::io::Read + Send>, Stream::Stderr)),
            ],
        };
        for (pipe, stream) in pipes.into_iter().flatten() {
            match output::read(pipe, stream, label.clone(), Arc::clone(&output)) {
                Ok(reader) => readers.push(reader),
                Err(error) => {
                    let _ = sys_process::signal_group(pid, Stop::Kill);
                    let _ = child.wait();
                    return Err(Error::io(
                        format!("cannot start a thread to read the output of `{shown}`"),
                        error,
                    ));
                }
            }
        }
        Ok(Child {
            inner: Arc::new(Inner {
                pid,
                command: shown,
                started: Instant::now(),
                grace: Mutex::new(DEFAULT_GRACE),
                process: Mutex::new(Process {
                    child,
                    status: None,
                    readers,
                    record,
                    reaped: false,
                }),
                output,
                follow,
            }),
        })
    }

    /// The child's process id (also its process group's id).
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Sets how long [`stop`](Child::stop) and `Drop` wait after SIGTERM before SIGKILL
    /// (default [`DEFAULT_GRACE`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let child = isolate_runtime::Child::spawn(std::process::Command::new("sleep").arg("30"))?
    ///     .grace(Duration::from_millis(100));
    /// # Ok::<(), isolate_runtime::Error>(())
    /// ```
    #[must_use]
    pub fn grace(self, grace: Duration) -> Child {
        *self
            .inner
            .grace
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = grace;
        self
    }

    /// The last lines of the child's stdout and stderr (up to 200), interleaved as they came,
    /// one per line.
    #[must_use]
    pub fn output_tail(&self) -> String {
        let seen = self.inner.output.seen();
        seen.lines.iter().fold(String::new(), |mut text, line| {
            text.push_str(line);
            text.push('\n');
            text
        })
    }

    /// The exit status if the child has exited, without waiting.
    ///
    /// # Errors
    ///
    /// Fails when the OS cannot tell.
    pub fn try_status(&self) -> Result<Option<ExitStatus>, Error> {
        self.inner.try_status()
    }

    /// Stops the child: SIGTERM to its process group, up to the grace period for it to exit,
    /// then SIGKILL; then reaps it and returns its exit status. A child that already exited is
    /// only reaped. Calling it again returns the same status.
    ///
    /// # Errors
    ///
    /// Fails when the child cannot be signalled or waited for.
    pub fn stop(&self) -> Result<ExitStatus, Error> {
        self.inner.stop()
    }

    /// Waits until `probe` succeeds, ending at once with the child's exit status and output if
    /// the child exits first.
    ///
    /// # Errors
    ///
    /// Fails when the child exits, when the probe's time is up (the message says what was
    /// probed, how often, the last answer, and the tail of the child's output with its command
    /// line), or when the probe is invalid.
    ///
    /// # Examples
    ///
    /// ```
    /// use isolate_runtime::{ready, Child};
    /// let crashing = Child::spawn(std::process::Command::new("sh").args(["-c", "echo bad config >&2; exit 3"]))?;
    /// let error = crashing.wait_ready(ready::line("listening")).unwrap_err();
    /// assert!(error.to_string().contains("exited with exit status: 3"));
    /// assert!(error.to_string().contains("bad config"));
    /// # Ok::<(), isolate_runtime::Error>(())
    /// ```
    pub fn wait_ready<K: Check>(&self, probe: Probe<K>) -> Result<(), Error> {
        probe.run(Some(&self.inner))
    }

    /// [`wait_ready`](Child::wait_ready) for async tests: the probe runs on a helper thread,
    /// so the runtime's thread (and a server on it) keeps running meanwhile. Works on any
    /// executor.
    ///
    /// # Errors
    ///
    /// As [`wait_ready`](Child::wait_ready).
    pub fn wait_ready_async<K: Check + Send + 'static>(
        &self,
        probe: Probe<K>,
    ) -> impl std::future::Future<Output = Result<(), Error>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        crate::background::run(move || probe.run(Some(&inner)))
    }

    /// Waits as [`wait_ready`](Child::wait_ready) does for a line of the child's output that
    /// holds the probe's text, and returns that line: the first to hold it of those
    /// [`ready::line`](crate::ready::line) looks at, as the child printed it (without the
    /// `program[pid]: ` prefix of the copy in the test's output), kept even when more lines
    /// than [`output_tail`](Child::output_tail) holds came after it. For a
    /// server that binds port 0 and prints the port it got, which no other process can take
    /// meanwhile, unlike a number chosen before the server starts.
    ///
    /// # Errors
    ///
    /// As [`wait_ready`](Child::wait_ready).
    ///
    /// # Examples
    ///
    /// ```
    /// use isolate_runtime::{ready, Child};
    /// use std::process::Command;
    ///
    /// let server = Child::spawn(Command::new("sh").args(["-c", "echo listening on port: 41234; sleep 30"]))?;
    /// let line = server.wait_line(ready::line("listening on port: ").within("10s"))?;
    /// let port: u16 = line["listening on port: ".len()..].parse().unwrap();
    /// assert_eq!(port, 41234);
    /// # Ok::<(), isolate_runtime::Error>(())
    /// ```
    pub fn wait_line(&self, probe: Probe<Line>) -> Result<String, Error> {
        found_line(probe.run_for(Some(&self.inner)))
    }

    /// [`wait_line`](Child::wait_line) for async tests, as
    /// [`wait_ready_async`](Child::wait_ready_async) is for `wait_ready`.
    ///
    /// # Errors
    ///
    /// As [`wait_ready`](Child::wait_ready).
    pub fn wait_line_async(
        &self,
        probe: Probe<Line>,
    ) -> impl std::future::Future<Output = Result<String, Error>> + Send + 'static {
        let inner = Arc::clone(&self.inner);
        crate::background::run(move || found_line(probe.run_for(Some(&inner))))
    }
}

/// The line a line probe that succeeded found: it is ready only once it has one.
fn found_line(check: Result<Line, Error>) -> Result<String, Error> {
    Ok(check?.into_found().unwrap_or_default())
}

impl Inner {
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether [`stop`](Inner::stop) ended it: gone on purpose, not by itself.
    pub(crate) fn stopped(&self) -> bool {
        self.process().reaped
    }

    fn process(&self) -> MutexGuard<'_, Process> {
        self.process.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn try_status(&self) -> Result<Option<ExitStatus>, Error> {
        let mut process = self.process();
        if process.status.is_none() {
            process.status = sys_process::exit_status(&mut process.child, false)
                .map_err(|e| Error::io(format!("cannot check on `{}`", self.command), e))?;
        }
        if process.status.is_some() {
            self.stop_following();
        }
        Ok(process.status)
    }

    pub(crate) fn stop(&self) -> Result<ExitStatus, Error> {
        let grace = *self.grace.lock().unwrap_or_else(PoisonError::into_inner);
        let mut process = self.process();
        let status = if let Some(status) = process.status {
            status
        } else {
            let status = stop(&mut process.child, self.pid, grace)
                .map_err(|e| Error::io(format!("cannot stop `{}`", self.command), e))?;
            process.status = Some(status);
            status
        };
        if !process.reaped {
            // Whatever is left of the group (children that ignored SIGTERM, or outlived a
            // child that exited by itself) goes too; then the record and the watchdog's
            // entry; and only then the leader is reaped, so that its pid, which they name,
            // cannot be another process's meanwhile.
            if cfg!(any(target_os = "linux", target_os = "android")) {
                let _ = sys_process::signal_group(self.pid, Stop::Kill);
            } else {
                orphans::kill_group_if_ours(self.pid, None);
            }
            process.record = None;
            let _ = process.child.wait();
            process.reaped = true;
        }
        self.stop_following();
        let readers = std::mem::take(&mut process.readers);
        output::join(
            readers,
            &self.output,
            Instant::now() + Duration::from_secs(1),
        );
        Ok(status)
    }

    /// A followed output file has no end of its own: its readers end when told.
    fn stop_following(&self) {
        if let Some(follow) = &self.follow {
            follow.finish();
        }
    }

    /// "child `cmd` (pid 42) exited with exit status: 3 after 0.20s", or "... is still running".
    pub(crate) fn state(&self) -> String {
        let state = match self.try_status() {
            Ok(Some(status)) => {
                // Let the readers drain the pipes, so the tail holds the child's last words.
                self.output.wait_closed(Duration::from_millis(500));
                format!(
                    "exited with {status} after {:.2}s",
                    self.started.elapsed().as_secs_f64()
                )
            }
            _ => "is still running".to_owned(),
        };
        format!("child `{}` (pid {}) {state}", self.command, self.pid)
    }

    /// "its last output:" and the last lines, or "it printed nothing".
    pub(crate) fn tail_text(&self) -> String {
        let tail = self.output.tail(TAIL_IN_ERRORS);
        if tail.is_empty() {
            "it printed nothing".to_owned()
        } else {
            format!("its last output:\n{}", tail.trim_end())
        }
    }

    pub(crate) fn watch(&self) -> Watch {
        let seen = self.output.seen();
        Watch {
            total: seen.total,
            closed: seen.closed,
        }
    }
}

/// SIGTERM, a bounded wait, SIGKILL, reap.
fn stop(child: &mut std::process::Child, pid: u32, grace: Duration) -> std::io::Result<ExitStatus> {
    if let Some(status) = sys_process::exit_status(child, false)? {
        return Ok(status);
    }
    sys_process::signal_group(pid, Stop::Term)?;
    let deadline = crate::eventually::after(Instant::now(), grace);
    // Most children exit within a fraction of a millisecond of SIGTERM: a first pause of a
    // millisecond made every stop (and every test's `Drop` of its server) cost one at least.
    let mut pause = Duration::from_micros(50);
    while Instant::now() < deadline {
        if let Some(status) = sys_process::exit_status(child, false)? {
            return Ok(status);
        }
        std::thread::sleep(pause.min(deadline.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
    sys_process::signal_group(pid, Stop::Kill)?;
    sys_process::exit_status(child, true)?
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::Other))
}

/// The command line as a shell would show it, for messages.
fn show(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| {
            let part = part.to_string_lossy();
            if part.is_empty()
                || part.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"')
            {
                format!("'{}'", part.replace('\'', r"'\''"))
            } else {
                part.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Drop for Child {
    fn drop(&mut self) {
        // A fixture's child belongs to its run, not to this handle.
        if self.inner.follow.is_some() {
            self.inner.stop_following();
            return;
        }
        if let Err(error) = self.inner.stop() {
            eprintln!("isolate: {error}");
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.inner.pid)
            .field("command", &self.inner.command)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}
