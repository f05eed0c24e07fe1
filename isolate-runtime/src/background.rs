//! Runtime-agnostic futures for the async waits: no executor is assumed, so they work on
//! tokio (current-thread included), async-std, smol or a hand-rolled `block_on`.
//!
//! Two pieces: [`run`] moves a blocking wait to a helper thread and wakes the task when it
//! is done (the probes do blocking I/O, which must not run on the runtime's thread while a
//! server on that same thread has to answer them); [`Delay`] is a sleep that wakes the task
//! from one shared timer thread, for retry loops whose checks are themselves async.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::Instant;

use crate::Error;

/// Starts a named helper thread: every thread of the runtime starts here. Not generic on
/// purpose: `thread::Builder::spawn` instantiated for each closure is about 1,300 lines of LLVM
/// IR, compiled by every cold build and linked into every test binary.
pub(crate) fn spawn(name: String, body: Box<dyn FnOnce() + Send>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new().name(name).spawn(body)
}

/// The result slot shared by a helper thread and the future that waits for it.
#[derive(Debug)]
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

/// The future returned by [`run`].
#[derive(Debug)]
struct Background<T> {
    slot: Arc<Mutex<Slot<Result<T, Error>>>>,
}

impl<T> Future for Background<T> {
    type Output = Result<T, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(value) = slot.value.take() {
            return Poll::Ready(value);
        }
        slot.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Runs `wait` on a helper thread; the future resolves with its result. A helper that cannot
/// be started resolves the future with that error.
pub(crate) fn run<T: Send + 'static>(
    wait: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> impl Future<Output = Result<T, Error>> + Send + 'static {
    let slot = Arc::new(Mutex::new(Slot {
        value: None,
        waker: None,
    }));
    let shared = Arc::clone(&slot);
    let started = spawn(
        "isolate-async-wait".into(),
        Box::new(move || {
            let value = wait();
            let mut slot = shared.lock().unwrap_or_else(PoisonError::into_inner);
            slot.value = Some(value);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }),
    );
    if let Err(error) = started {
        // Not polled yet, so there is no waker to call.
        slot.lock().unwrap_or_else(PoisonError::into_inner).value = Some(Err(Error::io(
            "cannot start a thread for an async wait",
            error,
        )));
    }
    Background { slot }
}

/// A sleep until `deadline` that works on any executor.
#[derive(Debug)]
pub(crate) struct Delay {
    deadline: Instant,
}

impl Delay {
    pub(crate) fn until(deadline: Instant) -> Delay {
        Delay { deadline }
    }
}

impl Future for Delay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        // Registering again on every poll is harmless (a spurious wake-up at worst) and keeps
        // the waker current when the task moved.
        match timer() {
            Some(timer) => timer.add(self.deadline, cx.waker().clone()),
            // No timer thread: ask to be polled again, a busy wait that still ends.
            None => cx.waker().wake_by_ref(),
        }
        Poll::Pending
    }
}

/// One thread that wakes sleeping tasks when their deadline passes.
struct Timer {
    queue: Mutex<BinaryHeap<Entry>>,
    changed: Condvar,
}

struct Entry(Reverse<Instant>, Waker);

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Timer {
    fn add(&self, deadline: Instant, waker: Waker) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Entry(Reverse(deadline), waker));
        self.changed.notify_one();
    }

    fn serve(&self) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while queue.peek().is_some_and(|entry| entry.0 .0 <= now) {
                if let Some(Entry(_, waker)) = queue.pop() {
                    waker.wake();
                }
            }
            queue = match queue.peek() {
                Some(entry) => {
                    let limit = entry.0 .0.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(queue, limit)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

fn timer() -> Option<&'static Timer> {
    static TIMER: OnceLock<Option<&'static Timer>> = OnceLock::new();
    *TIMER.get_or_init(|| {
        let timer: &'static Timer = Box::leak(Box::new(Timer {
            queue: Mutex::new(BinaryHeap::new()),
            changed: Condvar::new(),
        }));
        spawn("isolate-timer".into(), Box::new(move || timer.serve()))
            .ok()
            .map(|_| timer)
    })
}
