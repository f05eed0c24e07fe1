//! Bounded waits on OS file locks.
//!
//! flock locks belong to an open file description, so two opens of one file conflict whether
//! they come from two threads or two processes: one mechanism serves both, and the kernel drops
//! a lock when its holder dies.
//!
//! A wait polls with non-blocking attempts, backing off from 0.5ms to 10ms, and wakes at once
//! when something in this process is released ([`released`]). So a wait that times out leaves
//! nothing behind: a blocking `flock` cannot be cancelled, and bounding one meant a helper
//! thread and its descriptors blocked until the lock came free, one per timed-out test.
//! Hand-offs within a process are immediate; across processes they take at most one pause.

use std::fs::File;
use std::io;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Exclusive,
    Shared,
}

/// Takes the lock if nobody conflicting holds it; false when someone does.
pub(crate) fn try_lock(file: &File, mode: Mode) -> io::Result<bool> {
    let operation = match mode {
        Mode::Exclusive => FlockOperation::NonBlockingLockExclusive,
        Mode::Shared => FlockOperation::NonBlockingLockShared,
    };
    match flock(file, operation) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Takes the lock, waiting until `deadline`; false when the deadline passed first.
pub(crate) fn lock_until(file: &File, mode: Mode, deadline: Instant) -> io::Result<bool> {
    Ok(poll_until(deadline, || Ok(try_lock(file, mode)?.then_some(())))?.is_some())
}

/// Counts releases in this process, so waiters can sleep until the next one.
static RELEASES: (Mutex<u64>, Condvar) = (Mutex::new(0), Condvar::new());

fn releases() -> std::sync::MutexGuard<'static, u64> {
    RELEASES.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakes this process's waiters: something they may wait for (a lock, permits, a number) was
/// just released.
pub(crate) fn released() {
    *releases() += 1;
    RELEASES.1.notify_all();
}

/// Calls `attempt` until it yields a value or `deadline` passes (then `None`). Between
/// attempts it sleeps until a release in this process or the end of a growing pause.
pub(crate) fn poll_until<T>(
    deadline: Instant,
    mut attempt: impl FnMut() -> io::Result<Option<T>>,
) -> io::Result<Option<T>> {
    let mut pause = Duration::from_micros(500);
    loop {
        let seen = *releases();
        if let Some(value) = attempt()? {
            return Ok(Some(value));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let guard = releases();
        // A release since `seen` means the attempt may already succeed: no sleep.
        let _ = RELEASES
            .1
            .wait_timeout_while(guard, pause.min(left), |count| *count == seen)
            .unwrap_or_else(PoisonError::into_inner);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}
