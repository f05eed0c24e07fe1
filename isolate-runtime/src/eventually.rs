//! [`eventually`]: retry a fallible check until it passes or the time is up, in the manner of
//! testify's `Eventually`, Awaitility and Kotest's `eventually`, with the same backoff and the
//! same kind of diagnosis as the [`ready`](crate::ready) probes.
//!
//! Retries pause for 1/256 of the time waited so far, from 1 ms up to 50 ms: a condition that
//! holds is seen within about 0.4% of the time it took (under 2 ms for a server that starts
//! within half a second), and a long wait costs at most twenty attempts a second. A fixed
//! interval would make one of the two worse. The price is a probe every millisecond for the
//! first quarter second.

use std::fmt::Display;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::background::Delay;
use crate::Error;

/// The shortest pause between attempts.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest pause between attempts: bounds how late a ready condition is seen.
const MAX_PAUSE: Duration = Duration::from_millis(50);
/// A pause is this fraction of the time waited so far.
const PAUSE_DIVISOR: u32 = 256;

/// `start + wait`, or a deadline a century away when that is past what an `Instant` holds:
/// `Duration::MAX` is how some callers say "no limit", and must not panic.
pub(crate) fn after(start: Instant, wait: Duration) -> Instant {
    const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
    start.checked_add(wait).unwrap_or_else(|| start + CENTURY)
}

/// Pauses that grow with the time waited, from [`FIRST_PAUSE`] to [`MAX_PAUSE`].
#[derive(Debug)]
pub(crate) struct Backoff(Instant);

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff(Instant::now())
    }

    /// The next pause, never past `deadline`.
    pub(crate) fn next(&mut self, deadline: Instant) -> Duration {
        let pause = (self.0.elapsed() / PAUSE_DIVISOR).clamp(FIRST_PAUSE, MAX_PAUSE);
        pause.min(deadline.saturating_duration_since(Instant::now()))
    }
}

/// How long a wait may take: a duration string in the attribute's `timeout` syntax (`"500ms"`,
/// `"30s"`, `"1m30s"`) or a [`Duration`]. Zero and unparsable values are errors.
pub trait Within {
    /// The duration, or why it is refused; `what` names the wait in the message.
    ///
    /// # Errors
    ///
    /// An unparsable or zero duration.
    fn duration(&self, what: &str) -> Result<Duration, Error>;
}

impl Within for str {
    fn duration(&self, what: &str) -> Result<Duration, Error> {
        match isolate_rules::parse_duration(self) {
            Some(duration) if duration.is_zero() => Err(zero(self, what)),
            Some(duration) => Ok(duration),
            None => Err(Error::config(format!(
                "invalid duration `{}` for {what}: expected {}",
                self.escape_debug(),
                isolate_rules::DURATION_FORMS
            ))),
        }
    }
}

impl Within for String {
    fn duration(&self, what: &str) -> Result<Duration, Error> {
        self.as_str().duration(what)
    }
}

impl<T: Within + ?Sized> Within for &T {
    fn duration(&self, what: &str) -> Result<Duration, Error> {
        (**self).duration(what)
    }
}

impl Within for Duration {
    fn duration(&self, what: &str) -> Result<Duration, Error> {
        if self.is_zero() {
            Err(zero("0ms", what))
        } else {
            Ok(*self)
        }
    }
}

fn zero(written: &str, what: &str) -> Error {
    Error::config(format!(
        "a wait of `{written}` for {what} can never succeed: give a duration above zero, like `5s`"
    ))
}

/// The message of a wait that ran out of time.
pub(crate) fn timed_out(
    what: &str,
    within: Duration,
    started: Instant,
    attempts: u64,
    last: &str,
    knob: &str,
) -> String {
    format!(
        "timed out after {:.1}s waiting for {what}: {attempts} attempt{} over {:.2}s, the last {last}; \
         if it is legitimately slow, raise the wait with {knob}",
        within.as_secs_f64(),
        if attempts == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64(),
    )
}

/// Retries `check` until it returns `Ok`, backing off from 1 ms to 50 ms between attempts, for
/// at most `within` (`"5s"`, `"500ms"`, a [`Duration`]). Returns the first `Ok` value.
///
/// An attempt is never interrupted: a check that blocks (a read or a connect without a
/// timeout) holds the wait past `within` for as long as it blocks. Give such a check its own
/// timeout, or use [`eventually_async`], which abandons an attempt still running at the end.
///
/// # Errors
///
/// When the time is up: the message says where `eventually` was called, how many attempts were
/// made and the last error. An invalid `within` is an error before any attempt.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let calls = AtomicU32::new(0);
/// let value = isolate_runtime::eventually("5s", || match calls.fetch_add(1, Ordering::SeqCst) {
///     0..=2 => Err("not yet"),
///     n => Ok(n),
/// })?;
/// assert_eq!(value, 3);
///
/// let error = isolate_runtime::eventually("20ms", || Err::<(), _>("queue still has 3 items")).unwrap_err();
/// assert!(error.is_timeout());
/// assert!(error.to_string().contains("queue still has 3 items"));
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[track_caller]
pub fn eventually<T, E: Display>(
    within: impl Within,
    mut check: impl FnMut() -> Result<T, E>,
) -> Result<T, Error> {
    let mut tries = Tries::start("eventually", Location::caller(), &within)?;
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(error) => std::thread::sleep(tries.failed(&format!("failed with: {error}"))?),
        }
    }
}

/// [`eventually`] for async checks: `check` returns a future, which runs on the caller's
/// executor (any: no runtime is assumed), and the pauses between attempts do not block the
/// executor's thread. An attempt still running when the time is up is dropped.
///
/// # Errors
///
/// As [`eventually`].
///
/// # Examples
///
/// ```
/// # async fn run() -> Result<(), isolate_runtime::Error> {
/// let (sender, receiver) = std::sync::mpsc::channel();
/// std::thread::spawn(move || sender.send(42).unwrap());
/// let answer = isolate_runtime::eventually_async("5s", || {
///     let answer = receiver.try_recv();
///     async move { answer.map_err(|e| e.to_string()) }
/// })
/// .await?;
/// assert_eq!(answer, 42);
/// # Ok(())
/// # }
/// ```
#[track_caller]
pub fn eventually_async<T, E, F, Fut>(
    within: impl Within,
    mut check: F,
) -> impl Future<Output = Result<T, Error>>
where
    E: Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let tries = Tries::start("eventually_async", Location::caller(), &within);
    async move {
        let mut tries = tries?;
        loop {
            let mut attempt = pin!(check());
            let mut time_up = pin!(Delay::until(tries.deadline));
            let outcome = std::future::poll_fn(|cx| {
                if let Poll::Ready(outcome) = attempt.as_mut().poll(cx) {
                    return Poll::Ready(Some(outcome));
                }
                time_up.as_mut().poll(cx).map(|()| None)
            })
            .await;
            let pause = match outcome {
                Some(Ok(value)) => return Ok(value),
                Some(Err(error)) => tries.failed(&format!("failed with: {error}"))?,
                None => tries.failed("was still running when the time was up")?,
            };
            Delay::until(Instant::now() + pause).await;
        }
    }
}

/// The bookkeeping of one `eventually`: attempts, backoff and the timeout message.
struct Tries {
    /// `eventually` or `eventually_async`, as the caller wrote it.
    function: &'static str,
    what: String,
    within: Duration,
    started: Instant,
    deadline: Instant,
    backoff: Backoff,
    attempts: u64,
}

impl Tries {
    fn start(
        function: &'static str,
        caller: &Location<'_>,
        within: &impl Within,
    ) -> Result<Tries, Error> {
        let what = format!("the check of `{function}` at {caller}");
        let within = within.duration(&what)?;
        let started = Instant::now();
        Ok(Tries {
            function,
            what,
            within,
            started,
            deadline: after(started, within),
            backoff: Backoff::new(),
            attempts: 0,
        })
    }

    /// After a failed attempt (`last` says how it failed): the pause before the next one, or
    /// the timeout error when the time is up.
    fn failed(&mut self, last: &str) -> Result<Duration, Error> {
        self.attempts += 1;
        if Instant::now() >= self.deadline {
            return Err(Error::timeout(timed_out(
                &self.what,
                self.within,
                self.started,
                self.attempts,
                last,
                &format!("the first argument of `{}`", self.function),
            )));
        }
        Ok(self.backoff.next(self.deadline))
    }
}
