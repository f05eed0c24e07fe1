//! Bounded waits on OS file locks.
//!
//! flock locks belong to an open file description, so two opens of one file conflict whether
//! they come from two threads or two processes: one mechanism serves both, and the kernel drops
//! a lock when its holder dies. Waiting is blocking (the kernel wakes the next holder as soon as
//! the lock is free, no timer polling); the bound comes from waiting on a helper thread.

use std::fs::File;

use rustix::fs::{flock, FlockOperation};
use std::sync::mpsc;
use std::time::Instant;

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Exclusive,
    Shared,
}

/// Why a bounded wait ended without the lock.
#[derive(Debug)]
pub(crate) enum WaitError {
    TimedOut,
    Io(std::io::Error),
}

pub(crate) fn try_lock(file: &File, mode: Mode) -> Result<bool, std::io::Error> {
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

pub(crate) fn lock(file: &File, mode: Mode) -> Result<(), std::io::Error> {
    let operation = match mode {
        Mode::Exclusive => FlockOperation::LockExclusive,
        Mode::Shared => FlockOperation::LockShared,
    };
    flock(file, operation).map_err(Into::into)
}

/// Runs the blocking `acquire` on a helper thread and waits for it until `deadline`. On timeout
/// the helper is abandoned: whatever it acquires later is dropped at once, releasing the locks.
pub(crate) fn until<T: Send + 'static>(
    deadline: Instant,
    acquire: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T, WaitError> {
    let (sender, receiver) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("isolate-wait".into())
        .spawn(move || {
            let _ = sender.send(acquire());
        })
        .map_err(WaitError::Io)?;
    match receiver.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(result) => result.map_err(WaitError::Io),
        Err(_) => Err(WaitError::TimedOut),
    }
}
