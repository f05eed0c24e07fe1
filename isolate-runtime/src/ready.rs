//! Readiness probes: wait until a server answers, bounded, fast and with a diagnosis.
//!
//! A probe says what "ready" means ([`tcp`], [`http`], [`line`](fn@line), or your own [`probe`]) and for
//! how long to try ([`Probe::within`], default [`DEFAULT_WITHIN`]); [`Probe::wait`] or
//! [`Child::wait_ready`](crate::Child::wait_ready) runs it. Attempts pause for 1/256 of the
//! time waited so far, from 1 ms up to 50 ms: a server that starts within half a second is seen
//! within 2 ms of being ready, a slower one within about 0.4% of its start-up time, and a long
//! wait costs at most twenty attempts a second. With a child, a new line of
//! its output or its exit ends a pause at once, so a crashed server fails the wait at once too.
//!
//! A wait that ends without readiness says what was probed, how many attempts over how long,
//! the last error or the last status and body excerpt, and, for a child, whether it exited (and
//! how), the tail of its output and its command line.
//!
//! Async tests use [`Probe::wait_async`]: the probe runs on a helper thread (the probes do
//! blocking I/O), so a server on the same current-thread runtime keeps answering; the future
//! works on any executor.
//!
//! # Examples
//!
//! ```
//! use isolate_runtime::ready;
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//! let addr = listener.local_addr().unwrap();
//! ready::tcp(addr).within("5s").wait()?;
//! # Ok::<(), isolate_runtime::Error>(())
//! ```

use std::fmt::{self, Display};
use std::future::Future;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::panic::Location;
use std::time::{Duration, Instant};

use crate::child::Inner;
use crate::eventually::{timed_out, Backoff};
use crate::http::{self, Target};
use crate::output::Output;
use crate::Error;

pub use crate::eventually::Within;

/// How long a probe tries when [`Probe::within`] is not given: long enough for a server
/// starting on a loaded CI machine, short enough to fail before CI's own limit.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(30);

/// The longest single TCP connect attempt.
const CONNECT_MAX: Duration = Duration::from_secs(1);

/// A readiness check with its time limit; `K` is the kind of check.
#[must_use = "a probe does nothing until `.wait()` or `child.wait_ready(probe)`"]
pub struct Probe<K> {
    check: K,
    within: Result<Duration, Error>,
    times: u32,
}

/// One attempt's answer: ready, not yet (and why, for the message), or a probe that can never
/// succeed (ends the wait at once).
#[doc(hidden)]
#[derive(Debug)]
pub enum Answer {
    Ready,
    NotYet(String),
    /// Not yet, the attempt having used up the time it was given: when the wait's deadline cut
    /// it short, that says nothing of what is probed.
    OutOfTime(String),
    Invalid(Error),
}

/// A kind of readiness check: the kinds are this module's [`Tcp`], [`Http`], [`Line`] and
/// [`Custom`]; write your own with [`probe`].
pub trait Check: sealed::Sealed {
    /// What is checked, for messages: "HTTP GET `http://127.0.0.1:8080/`".
    fn describe(&self) -> String;

    #[doc(hidden)]
    fn attempt(&mut self, attempt: &Attempt<'_>) -> Answer;

    /// What else may explain a wait on a running child that ran out, for its message.
    #[doc(hidden)]
    fn timeout_hint(&self) -> Option<&'static str> {
        None
    }
}

/// What one attempt may use: the child's output, and how long it may take.
#[doc(hidden)]
#[derive(Debug)]
pub struct Attempt<'a> {
    output: Option<&'a Output>,
    limit: Duration,
}

mod sealed {
    #[allow(unreachable_pub)]
    pub trait Sealed {}
    impl Sealed for super::Tcp {}
    impl Sealed for super::Http {}
    impl Sealed for super::Line {}
    impl<F> Sealed for super::Custom<F> {}
}

fn probe_of<K>(check: K) -> Probe<K> {
    Probe {
        check,
        within: Ok(DEFAULT_WITHIN),
        times: 1,
    }
}

impl<K: Check> Probe<K> {
    /// How long to try: `"500ms"`, `"30s"`, `"1m30s"` (the attribute's `timeout` syntax) or a
    /// [`Duration`]. Zero or unparsable: the wait fails at once, saying so.
    pub fn within(mut self, within: impl Within) -> Self {
        let what = format!("readiness of {}", self.check.describe());
        self.within = within.duration(&what);
        self
    }

    /// Ready only after `n` successes in a row (default 1): for servers that answer once, then
    /// fall over while they finish starting.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Waits until the check succeeds, for a server that is not a [`Child`](crate::Child) (a
    /// thread, a container, an external service).
    ///
    /// # Errors
    ///
    /// When the time is up (see the [module docs](self) for what the message holds), or when
    /// the probe is invalid (a bad URL, duration, or a [`line`](fn@line) probe without a child).
    pub fn wait(self) -> Result<(), Error> {
        self.run(None)
    }

    /// [`wait`](Probe::wait) for async tests: runs the probe on a helper thread, so the
    /// runtime's thread keeps running (a server on the same current-thread runtime answers
    /// meanwhile). Works on any executor.
    ///
    /// # Errors
    ///
    /// As [`wait`](Probe::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn run(addr: std::net::SocketAddr) -> Result<(), isolate_runtime::Error> {
    /// isolate_runtime::ready::tcp(addr).within("5s").wait_async().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait_async(self) -> impl Future<Output = Result<(), Error>> + Send + 'static
    where
        K: Send + 'static,
    {
        crate::background::run(move || self.run(None))
    }

    pub(crate) fn run(self, child: Option<&Inner>) -> Result<(), Error> {
        self.run_for(child).map(drop)
    }

    /// Runs the probe and hands back its check, which may hold what made it ready.
    pub(crate) fn run_for(mut self, child: Option<&Inner>) -> Result<K, Error> {
        let within = std::mem::replace(&mut self.within, Ok(Duration::ZERO))?;
        if self.times == 0 {
            return Err(Error::config(format!(
                "`.times(0)` on the probe of {} can never succeed: use 1 or more",
                self.check.describe()
            )));
        }
        let started = Instant::now();
        let deadline = crate::eventually::after(started, within);
        let mut backoff = Backoff::new();
        let (mut attempts, mut in_a_row) = (0u64, 0u32);
        let mut last = String::new();
        loop {
            let watch = child.map(Inner::watch);
            let exited = match child {
                Some(child) => child.try_status()?,
                None => None,
            };
            if let (Some(child), Some(_)) = (child, exited) {
                // Its last words may still be on their way: this attempt is the last, so it
                // sees all of them (a line printed just before exiting is found).
                child.output.wait_closed(Duration::from_millis(500));
            }
            attempts += 1;
            let limit = deadline.saturating_duration_since(Instant::now());
            let attempt = Attempt {
                output: child.map(|c| &*c.output),
                limit,
            };
            last = match self.check.attempt(&attempt) {
                Answer::Ready => {
                    in_a_row += 1;
                    if in_a_row >= self.times {
                        return Ok(self.check);
                    }
                    format!("succeeded {in_a_row} of {} times in a row", self.times)
                }
                Answer::NotYet(why) => {
                    in_a_row = 0;
                    why
                }
                // The last attempt gets what time is left, often a sliver: cut short by the
                // deadline, it keeps what the attempt before it found.
                Answer::OutOfTime(why) => {
                    in_a_row = 0;
                    if Instant::now() < deadline || last.is_empty() {
                        why
                    } else {
                        last
                    }
                }
                Answer::Invalid(error) => return Err(error),
            };
            let what = self.describe();
            if let (Some(child), Some(_)) = (child, exited) {
                return Err(Error::refused(format!(
                    "{} while waiting for {what} ({attempts} attempt{}, the last {last}); {}",
                    child.state(),
                    if attempts == 1 { "" } else { "s" },
                    child.tail_text()
                )));
            }
            if Instant::now() >= deadline {
                let mut message = timed_out(
                    &what,
                    within,
                    started,
                    attempts,
                    &last,
                    "`.within(\"...\")` on the probe",
                );
                if let Some(child) = child {
                    message = format!("{message}; {}; {}", child.state(), child.tail_text());
                    if let Some(hint) = self.check.timeout_hint() {
                        message = format!("{message}\n{hint}");
                    }
                }
                return Err(Error::timeout(message));
            }
            let pause = backoff.next(deadline);
            match (child, watch) {
                (Some(child), Some(watch)) => child.output.sleep(pause, watch.total, watch.closed),
                _ => std::thread::sleep(pause),
            }
        }
    }

    fn describe(&self) -> String {
        let times = if self.times > 1 {
            format!(" ({} times in a row)", self.times)
        } else {
            String::new()
        };
        format!("{}{times}", self.check.describe())
    }
}

impl<K: Check> fmt::Debug for Probe<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("check", &self.check.describe())
            .field("within", &self.within)
            .field("times", &self.times)
            .finish()
    }
}

/// Where a child's output was when an attempt began, so a pause ends at its next change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Watch {
    pub(crate) total: u64,
    pub(crate) closed: u8,
}

/// A TCP connect; see [`tcp`].
#[derive(Debug)]
pub struct Tcp {
    addrs: Result<Vec<SocketAddr>, String>,
    shown: String,
}

/// Ready when a TCP connection to `addr` succeeds (it is closed at once). `addr` is anything
/// [`ToSocketAddrs`] takes: a `SocketAddr`, `("127.0.0.1", port)`, `"127.0.0.1:8080"`.
///
/// The server accepts the probe's connection like any other: one that serves a single
/// connection (a test's `listener.accept()` once, then a handshake) takes the probe's and
/// fails on it, and a server that counts its clients counts it. A server handed a held
/// [`Port`](crate::Port) needs no probe at all (clients wait in its backlog); for a child that
/// serves one connection, wait for what it prints with [`line`](fn@line).
///
/// # Examples
///
/// ```
/// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// isolate_runtime::ready::tcp(listener.local_addr().unwrap()).wait()?;
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn tcp(addr: impl ToSocketAddrs) -> Probe<Tcp> {
    let addrs = addr
        .to_socket_addrs()
        .map(Iterator::collect::<Vec<_>>)
        .map_err(|e| e.to_string());
    let shown = match &addrs {
        Ok(addrs) => addrs
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("` or `"),
        Err(_) => "an address that does not resolve".to_owned(),
    };
    probe_of(Tcp { addrs, shown })
}

impl Check for Tcp {
    fn describe(&self) -> String {
        format!("a TCP connection to `{}`", self.shown)
    }

    fn attempt(&mut self, attempt: &Attempt<'_>) -> Answer {
        let addrs = match &self.addrs {
            Ok(addrs) if !addrs.is_empty() => addrs,
            Ok(_) => {
                return Answer::Invalid(Error::config(
                    "`ready::tcp` was given no address".to_owned(),
                ))
            }
            Err(error) => {
                return Answer::Invalid(Error::config(format!(
                    "`ready::tcp` was given an address that does not resolve: {error}"
                )))
            }
        };
        let limit = attempt.limit.clamp(Duration::from_millis(1), CONNECT_MAX);
        let mut last = String::new();
        for addr in addrs {
            match TcpStream::connect_timeout(addr, limit) {
                Ok(_) => return Answer::Ready,
                Err(error) => last = format!("failed with: {error}"),
            }
        }
        Answer::NotYet(last)
    }
}

/// An HTTP GET; see [`http`].
#[derive(Debug)]
pub struct Http {
    target: Result<Target, String>,
    url: String,
    status: Option<u16>,
    body: Option<String>,
}

/// Ready when a GET of `url` answers 2xx (or [`status`](Probe::status)), with a body holding
/// [`body_contains`](Probe::body_contains) if given. Only this machine is probed: the host must
/// be `localhost`, a loopback address or an address of this machine; `https` is not spoken.
///
/// # Examples
///
/// ```
/// let error = isolate_runtime::ready::http("http://example.com/").wait().unwrap_err();
/// assert!(error.to_string().contains("is a host name"));
/// ```
pub fn http(url: impl AsRef<str>) -> Probe<Http> {
    let url = url.as_ref();
    probe_of(Http {
        target: http::parse(url).map_err(|e| e.to_string()),
        url: url.to_owned(),
        status: None,
        body: None,
    })
}

impl Probe<Http> {
    /// Ready only on this status code (instead of any 2xx).
    pub fn status(mut self, code: u16) -> Self {
        self.check.status = Some(code);
        self
    }

    /// Ready only when the body contains `text` (in the first 64 KiB).
    pub fn body_contains(mut self, text: impl Into<String>) -> Self {
        self.check.body = Some(text.into());
        self
    }
}

impl Check for Http {
    fn describe(&self) -> String {
        let status = self
            .status
            .map_or("2xx".to_owned(), |code| code.to_string());
        let body = self.body.as_ref().map_or(String::new(), |text| {
            format!(" with a body containing `{}`", text.escape_debug())
        });
        format!("HTTP GET `{}` to answer {status}{body}", self.url)
    }

    fn attempt(&mut self, attempt: &Attempt<'_>) -> Answer {
        let target = match &self.target {
            Ok(target) => target,
            Err(error) => return Answer::Invalid(Error::config(error.clone())),
        };
        let answer = match http::get(target, attempt.limit) {
            Ok(answer) => answer,
            Err(error) if http::is_timeout(&error) => {
                return Answer::OutOfTime(format!("failed with: {error}"))
            }
            Err(error) => return Answer::NotYet(format!("failed with: {error}")),
        };
        let status_ok = match self.status {
            Some(code) => answer.status == code,
            None => (200..300).contains(&answer.status),
        };
        let body_ok = self
            .body
            .as_ref()
            .map_or(true, |text| answer.body.contains(text.as_str()));
        if status_ok && body_ok {
            return Answer::Ready;
        }
        let excerpt: String = answer.body.chars().take(200).collect();
        let more = if answer.body.chars().nth(200).is_some() {
            "..."
        } else {
            ""
        };
        Answer::NotYet(format!(
            "answered {} {} with the body `{}`{more}",
            answer.status,
            answer.reason,
            excerpt.escape_debug()
        ))
    }
}

/// A line of a child's output; see [`line`](fn@line).
#[derive(Debug)]
pub struct Line {
    text: String,
    /// The needle's number in the child's output, once the first attempt registered it.
    watch: Option<usize>,
    /// The first line that held `text`, once one did.
    found: Option<String>,
}

impl Line {
    /// The line that made the probe ready.
    pub(crate) fn into_found(self) -> Option<String> {
        self.found
    }
}

/// Ready when a line of the child's stdout or stderr contains `text`: any line printed while
/// the wait runs, however many follow it, and of those printed before it began, the last 200
/// (the ones kept). Only for [`Child::wait_ready`](crate::Child::wait_ready) and
/// [`Child::wait_line`](crate::Child::wait_line), which also returns the line (a port the
/// child printed): a child's output is what it watches.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{ready, Child};
/// let child = Child::spawn(std::process::Command::new("sh").args(["-c", "echo ready; sleep 30"]))?;
/// child.wait_ready(ready::line("ready"))?;
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn line(text: impl Into<String>) -> Probe<Line> {
    probe_of(Line {
        text: text.into(),
        watch: None,
        found: None,
    })
}

impl Check for Line {
    fn describe(&self) -> String {
        format!(
            "a line containing `{}` in the child's output",
            self.text.escape_debug()
        )
    }

    fn attempt(&mut self, attempt: &Attempt<'_>) -> Answer {
        let Some(output) = attempt.output else {
            return Answer::Invalid(Error::config(format!(
                "`ready::line(\"{}\")` watches a child's output: use `child.wait_ready(ready::line(..))` \
                 instead of `.wait()`",
                self.text.escape_debug()
            )));
        };
        let needle = *self
            .watch
            .get_or_insert_with(|| output.watch_for(&self.text));
        self.found = output.found(needle);
        if self.found.is_some() {
            Answer::Ready
        } else {
            Answer::NotYet(format!("found it in none of {} lines", output.seen().total))
        }
    }

    fn timeout_hint(&self) -> Option<&'static str> {
        Some(
            "a line counts once it ends with a newline, and a program whose output is not a \
             terminal may keep what it printed in a buffer until it fills or the program exits: \
             unbuffer it (Python: `-u` or `PYTHONUNBUFFERED=1`; C stdio: `stdbuf -oL`)",
        )
    }
}

/// A check of your own; see [`probe`].
pub struct Custom<F> {
    check: F,
    at: &'static Location<'static>,
}

impl<F> fmt::Debug for Custom<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Custom")
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// Ready when `check` returns `Ok(())` or `Ok(true)`; `Ok(false)` and `Err(_)` are "not yet"
/// (the last error is shown if the time runs out). The check is never interrupted: one that
/// blocks holds the wait past its `within` until it returns, so give its I/O a timeout.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// let loaded = Arc::new(AtomicBool::new(false));
/// let flag = Arc::clone(&loaded);
/// std::thread::spawn(move || flag.store(true, Ordering::SeqCst));
/// isolate_runtime::ready::probe(move || Ok::<_, String>(loaded.load(Ordering::SeqCst))).wait()?;
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[track_caller]
pub fn probe<F, R>(check: F) -> Probe<Custom<F>>
where
    F: FnMut() -> R,
    R: ProbeResult,
{
    probe_of(Custom {
        check,
        at: Location::caller(),
    })
}

/// What a [`probe`] check may return: `Result<bool, E>` or `Result<(), E>`, `E: Display`.
pub trait ProbeResult {
    /// `Ok` when ready; `Err` with the reason (for messages) when not.
    ///
    /// # Errors
    ///
    /// When not ready.
    fn ready(self) -> Result<(), String>;
}

impl<E: Display> ProbeResult for Result<bool, E> {
    fn ready(self) -> Result<(), String> {
        match self {
            Ok(true) => Ok(()),
            Ok(false) => Err("returned `Ok(false)`".to_owned()),
            Err(error) => Err(format!("failed with: {error}")),
        }
    }
}

impl<E: Display> ProbeResult for Result<(), E> {
    fn ready(self) -> Result<(), String> {
        self.map_err(|error| format!("failed with: {error}"))
    }
}

impl<F, R> Check for Custom<F>
where
    F: FnMut() -> R,
    R: ProbeResult,
{
    fn describe(&self) -> String {
        format!("the check of `ready::probe` at {}", self.at)
    }

    fn attempt(&mut self, _: &Attempt<'_>) -> Answer {
        match (self.check)().ready() {
            Ok(()) => Answer::Ready,
            Err(why) => Answer::NotYet(why),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe's thread may not run between two attempts (a loaded machine) while the child
    /// prints hundreds of lines: a line printed after the wait began is seen even when it has
    /// scrolled out of the kept lines by the next attempt.
    #[test]
    fn a_line_printed_during_the_wait_is_seen_after_it_scrolled_out() {
        let output = Output::default();
        let attempt = Attempt {
            output: Some(&output),
            limit: Duration::from_secs(1),
        };
        let mut check = Line {
            text: "listening".into(),
            watch: None,
            found: None,
        };
        assert!(matches!(check.attempt(&attempt), Answer::NotYet(_)));
        output.push("listening on 7".into());
        for n in 0..crate::output::KEPT_LINES * 3 {
            output.push(n.to_string());
        }
        assert!(matches!(check.attempt(&attempt), Answer::Ready));
        assert_eq!(check.into_found().as_deref(), Some("listening on 7"));
    }
}
