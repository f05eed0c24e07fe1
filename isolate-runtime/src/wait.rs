//! Bounded waits on OS file locks, with a queue per process in front of each lock.
//!
//! A lock is a `flock` on a FIFO, so that a wait between processes is bounded, freed at once
//! by a holder's death, and woken once per release, with no signal handler and no thread of
//! its own (a blocking `flock` cannot be cancelled, and non-blocking attempts in a loop make
//! every hand-off wait for the next attempt):
//!
//! - every descriptor that takes the lock is opened read-write, which makes it a *writer* of
//!   the FIFO (nobody ever writes a byte), and this process closes it, not merely unlocks it,
//!   when it lets the lock go. So while anyone holds the lock, the FIFO has a writer, and no
//!   descriptor that is a writer stays open in a process that does not hold the lock: an idle
//!   one would hold back every waiter's wake-up;
//! - a waiter polls a read-only descriptor of the FIFO with its remaining time, and the kernel
//!   reports a hang-up when the last writer is gone: on a release, and when it closes the
//!   descriptors of a holder killed by SIGKILL (closing a file removes its `flock` before it
//!   drops the writer). A hang-up means nobody holds the lock; the waiters it wakes try to take
//!   it, and the losers poll again (the winner is a writer by then).
//!
//! The lock named `<path>` is the FIFO `<path>.fifo`: versions of isolate before this one
//! locked the regular file `<path>`, and the two do not exclude each other (a FIFO where the
//! old version expects a regular file, or the reverse, would break the waits of one of them
//! instead). Run one version at a time on a machine; the old files can be removed.
//!
//! Each process queues its own waiters in memory, FIFO:
//!
//! - between threads of this process, a release hands the lock straight to the next local
//!   waiter (one wake-up, no system call): the process keeps the kernel lock meanwhile;
//! - towards other processes, only the first local waiter polls the FIFO, so one thread per
//!   process and lock waits in the kernel. When its deadline passes it leaves the queue and
//!   the next one polls; a timed-out wait leaves no thread or descriptor behind;
//! - so that another process is never starved by local hand-offs, after [`FAIR_HANDOFFS`] of
//!   them or [`FAIR_HOLD`] holding the kernel lock, the process checks whether another process
//!   waits (a process's polling waiter holds a shared lock on `<path>.waiting`) and if so lets
//!   the kernel lock go, and its own first waiter polls again only once the waiters it saw got
//!   in (or after [`STEP_ASIDE`]).
//!
//! Waits that are not for a lock (permits, port numbers) poll ([`poll_until`]) and wake when
//! something in this process is released ([`released`]).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::{flock, FlockOperation, OFlags};
use rustix::io::Errno;

use crate::{lockdir, Error};

/// Local hand-offs after which another process's waiter, if any, goes first.
const FAIR_HANDOFFS: u32 = 8;
/// How long the process may keep a contended kernel lock for its own threads.
const FAIR_HOLD: Duration = Duration::from_millis(20);
/// The longest a process that stepped aside waits for the others' waiters before it polls.
const STEP_ASIDE: Duration = Duration::from_millis(50);
/// How often a process that stepped aside looks whether the others' waiters got in. Short:
/// until it polls again it is not announced, and the others, checking for waiters after their
/// next few hand-offs (a few hundred µs with short tests), would miss it and keep the lock for
/// as many again.
const STEP_ASIDE_POLL: Duration = Duration::from_micros(100);
/// The longest a waiter polls before it tries the lock again regardless. Only a writer that
/// does not hold the lock (someone else's descriptor, not isolate's) or a platform that does
/// not report a FIFO's hang-up would make it matter.
#[cfg(any(target_os = "linux", target_os = "android"))]
const REPOLL: Duration = Duration::from_secs(1);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const REPOLL: Duration = Duration::from_millis(10);
/// How often a process renews the age of a FIFO it uses (see [`crate::sys::keep_fresh`]).
const FRESHEN: Duration = Duration::from_secs(3600);

/// How a lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Exclusive,
    Shared,
}

/// How long [`Lock::take`] may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// Not at all: the lock is free now, and nobody in this process queues for it.
    Never,
    /// Until the deadline, behind the waiters queued before.
    Until(Instant),
    /// Until the deadline; a shared lock this process holds is joined at once, ahead of the
    /// queue (a thread joining a group it already is a shared member of must not queue behind
    /// an exclusive waiter that waits for that very thread).
    Rejoin(Instant),
}

/// Takes the lock on `file` if nobody conflicting holds it; false when someone does.
pub(crate) fn try_lock(file: impl AsFd, mode: Mode) -> io::Result<bool> {
    match flock(file, operation(mode)) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn operation(mode: Mode) -> FlockOperation {
    match mode {
        Mode::Exclusive => FlockOperation::NonBlockingLockExclusive,
        Mode::Shared => FlockOperation::NonBlockingLockShared,
    }
}

/// The FIFO behind the lock named `path`.
pub(crate) fn fifo_path(path: &Path) -> PathBuf {
    let mut fifo = path.as_os_str().to_owned();
    fifo.push(".fifo");
    fifo.into()
}

/// Opens the FIFO at `path` with `flags`, creating it (and its directory) if missing.
fn open_fifo(path: &Path, flags: OFlags) -> io::Result<OwnedFd> {
    let flags = flags | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    let open = || rustix::fs::open(path, flags, rustix::fs::Mode::empty());
    match open() {
        Err(Errno::NOENT) => {}
        opened => return Ok(opened?),
    }
    let owner_only = rustix::fs::Mode::RUSR | rustix::fs::Mode::WUSR;
    let make = || rustix::fs::mkfifoat(rustix::fs::CWD, path, owner_only);
    match make() {
        Ok(()) | Err(Errno::EXIST) => {}
        // The directory was removed since it was validated (a temp cleaner): again, as
        // `lockdir::lock_file` does.
        Err(Errno::NOENT) => {
            if let Some(dir) = path.parent() {
                lockdir::open_private_dir(dir)
                    .map_err(|e| io::Error::new(io::ErrorKind::NotFound, e.to_string()))?;
            }
            match make() {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    }
    Ok(open()?)
}

/// One attempt at the lock on the FIFO at `path`: a new writer, locked without blocking, else
/// closed again.
fn attempt(path: &Path, mode: Mode) -> io::Result<Option<File>> {
    let writer = File::from(open_fifo(path, OFlags::RDWR)?);
    Ok(try_lock(&writer, mode)?.then_some(writer))
}

/// A read end of the FIFO at `path`, to poll; refused if `path` is not a FIFO (a poll on it
/// would never wait).
fn open_reader(path: &Path) -> io::Result<OwnedFd> {
    let reader = open_fifo(path, OFlags::RDONLY | OFlags::NONBLOCK)?;
    let stat = rustix::fs::fstat(&reader)?;
    if rustix::fs::FileType::from_raw_mode(stat.st_mode) != rustix::fs::FileType::Fifo {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a FIFO (left by something other than isolate: remove it)",
        ));
    }
    Ok(reader)
}

/// Whether `reader` reports an event (the hang-up: no writer left) within `timeout`.
fn hangs_up(reader: &OwnedFd, timeout: Duration) -> io::Result<bool> {
    let timeout = Timespec::try_from(timeout.min(REPOLL)).unwrap_or(Timespec {
        tv_sec: 1,
        tv_nsec: 0,
    });
    match poll(&mut [PollFd::new(reader, PollFlags::IN)], Some(&timeout)) {
        Ok(events) => Ok(events > 0),
        Err(Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A lock file held, in this process, by one holder; released when dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    queue: Arc<Queue>,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let woke = self.queue.update(|state| state.holders -= 1);
        // The scheduler tends to queue the waiter just woken on this CPU, where it would wait
        // for this thread's bookkeeping (emptying its holder record) and its next sleep: let
        // it run first. With a CPU free this returns at once.
        if woke {
            thread::yield_now();
        }
    }
}

impl Lock {
    /// Takes the lock named `path` in `mode`; `None` when `wait` ran out first.
    pub(crate) fn take(path: &Path, mode: Mode, wait: Wait) -> Result<Option<Lock>, Error> {
        Queue::of(path).take(mode, wait)
    }

    /// Whether a thread of this process holds the lock named `path` or queues for it.
    pub(crate) fn in_use_here(path: &Path) -> bool {
        let Some(queue) = Queue::all().get(path).cloned() else {
            return false;
        };
        let state = queue.state();
        state.holders > 0 || !state.queue.is_empty()
    }

    /// Whether threads of this process queue for the lock (the next holder may be one of them).
    pub(crate) fn has_waiters(&self) -> bool {
        !self.queue.state().queue.is_empty()
    }

    /// Releases the lock, but keeps this process's hold on the lock file until the returned
    /// value drops: a thread of this process that takes the lock meanwhile (one just handed
    /// another lock, say) gets it without a system call.
    pub(crate) fn linger(self) -> Linger {
        let queue = Arc::clone(&self.queue);
        queue.state().lingering += 1;
        drop(self);
        Linger { queue }
    }

    /// Releases the lock after a later wait timed out. Nothing of it stays open once unused,
    /// so this is a plain release (kept for the callers that say why they let go).
    pub(crate) fn release_after_timeout(self) {
        drop(self);
    }
}

/// A released lock whose lock file this process still holds; let go when dropped, unless a
/// thread of this process took the lock meanwhile.
#[derive(Debug)]
pub(crate) struct Linger {
    queue: Arc<Queue>,
}

impl Drop for Linger {
    fn drop(&mut self) {
        self.queue.update(|state| state.lingering -= 1);
    }
}

/// Waiters to wake: granted the lock, or the first one, asked to poll.
#[must_use = "the waiters sleep until woken"]
struct Wake(Vec<Thread>);

impl Wake {
    /// Wakes them; true if there were any.
    fn wake(self) -> bool {
        let any = !self.0.is_empty();
        for thread in self.0 {
            thread.unpark();
        }
        any
    }
}

/// One local waiter.
#[derive(Debug)]
struct Waiter {
    mode: Mode,
    thread: Thread,
    granted: AtomicBool,
}

/// This process's use of one lock.
#[derive(Debug)]
struct Queue {
    fifo: PathBuf,
    waiting_path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// The kernel lock this process holds, and the writer it holds it through.
    kernel: Option<(Mode, File)>,
    /// Holders in this process, all in `held_mode`.
    holders: u32,
    held_mode: Mode,
    queue: VecDeque<Arc<Waiter>>,
    /// The first waiter is to poll the FIFO: the kernel lock it needs is someone else's.
    poll: bool,
    /// The first waiter polls: only it may take the kernel lock.
    polling: bool,
    /// The poll is to wait first for other processes' waiters to get in.
    step_aside: bool,
    /// Released locks whose kernel lock is kept for now ([`Lock::linger`]).
    lingering: u32,
    /// The last poll failed; the waiters queued then fail with it.
    failed: Option<(io::ErrorKind, String)>,
    /// Local hand-offs since the kernel lock was taken, and when it was.
    handoffs: u32,
    since: Instant,
    /// When this process last renewed the FIFO's age.
    freshened: Option<Instant>,
    /// This process's announcement as a waiter, kept by the poller that won until the next
    /// fairness check or release (withdrawing it is a system call the hand-off need not wait
    /// for; this process's own announcement would count as another process's waiter).
    waited: Option<Waited>,
}

/// What a poller that won keeps until the lock changes hands: its announcement as a waiter and
/// the reader it polled, closed off the hand-off's path.
#[derive(Debug)]
struct Waited {
    _announcement: Option<File>,
    _reader: OwnedFd,
}

impl State {
    /// Makes the caller a holder at once if it can be, without queueing.
    fn grant_now(&mut self, fifo: &Path, mode: Mode, rejoin: bool) -> bool {
        let ahead = !self.queue.is_empty();
        if self.holders > 0 {
            let joins = mode == Mode::Shared && self.held_mode == Mode::Shared;
            if joins && (rejoin || !ahead) {
                self.holders += 1;
                return true;
            }
            return false;
        }
        if ahead || !self.kernel_lock(fifo, mode) {
            return false;
        }
        self.holders = 1;
        self.held_mode = mode;
        true
    }

    fn kernel_mode(&self) -> Option<Mode> {
        self.kernel.as_ref().map(|(mode, _)| *mode)
    }

    /// Holds the kernel lock in `mode` without blocking, if it can be had now.
    fn kernel_lock(&mut self, fifo: &Path, mode: Mode) -> bool {
        if self.kernel_mode() == Some(mode) {
            return true;
        }
        self.kernel = None;
        // An error here recurs in the first waiter's poll, which reports it to the waiters.
        match attempt(fifo, mode) {
            Ok(Some(writer)) => {
                self.hold(mode, writer);
                true
            }
            _ => false,
        }
    }

    /// Holds the kernel lock in `mode` through `writer`.
    fn hold(&mut self, mode: Mode, writer: File) {
        if self.freshened.map_or(true, |at| at.elapsed() > FRESHEN) {
            crate::sys::keep_fresh(&writer);
            self.freshened = Some(Instant::now());
        }
        self.kernel = Some((mode, writer));
        self.handoffs = 0;
        self.since = Instant::now();
    }
}

impl Queue {
    /// Every queue of this process, by lock name.
    fn all() -> MutexGuard<'static, HashMap<PathBuf, Arc<Queue>>> {
        static QUEUES: OnceLock<Mutex<HashMap<PathBuf, Arc<Queue>>>> = OnceLock::new();
        QUEUES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The queue of the lock named `path`, created on first use and kept.
    fn of(path: &Path) -> Arc<Queue> {
        let mut queues = Queue::all();
        if let Some(queue) = queues.get(path) {
            return Arc::clone(queue);
        }
        let mut waiting_path = path.as_os_str().to_owned();
        waiting_path.push(".waiting");
        let queue = Arc::new(Queue {
            fifo: fifo_path(path),
            waiting_path: waiting_path.into(),
            state: Mutex::new(State {
                kernel: None,
                holders: 0,
                held_mode: Mode::Exclusive,
                queue: VecDeque::new(),
                poll: false,
                polling: false,
                step_aside: false,
                lingering: 0,
                failed: None,
                handoffs: 0,
                since: Instant::now(),
                freshened: None,
                waited: None,
            }),
        });
        queues.insert(path.to_owned(), Arc::clone(&queue));
        queue
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to the state, then dispatches and wakes whom that concerns; true if
    /// anyone.
    fn update(self: &Arc<Self>, change: impl FnOnce(&mut State)) -> bool {
        let mut state = self.state();
        change(&mut state);
        let wake = self.dispatch(&mut state);
        drop(state);
        wake.wake()
    }

    fn take(self: Arc<Self>, mode: Mode, wait: Wait) -> Result<Option<Lock>, Error> {
        let mut state = self.state();
        let (deadline, rejoin) = match wait {
            Wait::Never => (None, false),
            Wait::Until(deadline) => (Some(deadline), false),
            Wait::Rejoin(deadline) => (Some(deadline), true),
        };
        if state.grant_now(&self.fifo, mode, rejoin) {
            drop(state);
            return Ok(Some(Lock { queue: self }));
        }
        let Some(deadline) = deadline else {
            let wake = self.dispatch(&mut state);
            drop(state);
            wake.wake();
            return Ok(None);
        };
        let me = Arc::new(Waiter {
            mode,
            thread: thread::current(),
            granted: AtomicBool::new(false),
        });
        state.queue.push_back(Arc::clone(&me));
        if state.queue.len() == 1 && state.holders == 0 {
            // `grant_now` just tried the kernel lock for this waiter: its turn to poll.
            state.poll = true;
        } else {
            let wake = self.dispatch(&mut state);
            drop(state);
            wake.wake();
            state = self.state();
        }
        loop {
            if me.granted.load(Ordering::Acquire) {
                drop(state);
                return Ok(Some(Lock { queue: self }));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let failed = state.failed.clone();
            if left.is_zero() || failed.is_some() {
                state.queue.retain(|waiter| !Arc::ptr_eq(waiter, &me));
                let wake = self.dispatch(&mut state);
                drop(state);
                wake.wake();
                return match failed {
                    Some((kind, message)) => Err(Error::io(
                        format!("cannot lock `{}`", self.fifo.display()),
                        io::Error::new(kind, message),
                    )),
                    None => Ok(None),
                };
            }
            let first = state
                .queue
                .front()
                .is_some_and(|head| Arc::ptr_eq(head, &me));
            if state.poll && first {
                state = self.poll(state, mode, deadline);
                continue;
            }
            drop(state);
            thread::park_timeout(left);
            // Granted: the lock is this thread's without touching the state, which the thread
            // that woke it may still hold.
            if me.granted.load(Ordering::Acquire) {
                return Ok(Some(Lock { queue: self }));
            }
            state = self.state();
        }
    }

    /// The first waiter's turn to wait for other processes: polls the FIFO until this process
    /// holds the kernel lock, the deadline passes or the poll fails, then dispatches.
    fn poll<'a>(
        self: &'a Arc<Self>,
        mut state: MutexGuard<'a, State>,
        mode: Mode,
        deadline: Instant,
    ) -> MutexGuard<'a, State> {
        state.poll = false;
        state.polling = true;
        let step_aside = std::mem::take(&mut state.step_aside);
        drop(state);
        let waited = self.wait_in_kernel(mode, deadline, step_aside);
        let mut state = self.state();
        state.polling = false;
        match waited {
            Ok(Some((writer, waited))) => {
                state.hold(mode, writer);
                state.waited = Some(waited);
            }
            Ok(None) => {}
            Err(e) => {
                state.failed = Some((e.kind(), e.to_string()));
                state.queue.iter().for_each(|waiter| waiter.thread.unpark());
            }
        }
        // Grants this thread (and shared waiters behind it, who are woken); on a timeout, asks
        // it to poll again, which it leaves to the next one.
        let mut wake = self.dispatch(&mut state);
        let me = thread::current().id();
        wake.0.retain(|thread| thread.id() != me);
        if wake.0.is_empty() {
            return state;
        }
        drop(state);
        wake.wake();
        self.state()
    }

    /// Grants the lock to the waiters at the head of the queue that can have it now, asks the
    /// first one that cannot to poll, and lets the kernel lock go when nobody in this process
    /// needs it. Whom this concerns is woken by the caller, once it has let go of the state
    /// (woken under it, they would block on it at once).
    fn dispatch(self: &Arc<Self>, state: &mut State) -> Wake {
        let mut wake = Wake(Vec::new());
        while let Some(head) = state.queue.front() {
            let (mode, thread) = (head.mode, head.thread.clone());
            if state.poll || state.polling {
                break;
            }
            if state.holders > 0 {
                if mode == Mode::Exclusive || state.held_mode == Mode::Exclusive {
                    break;
                }
            } else if state.kernel_mode() == Some(mode) {
                // A hand-off between threads of this process: first, a turn for other
                // processes if this one has had the lock long enough.
                if state.handoffs >= FAIR_HANDOFFS || state.since.elapsed() >= FAIR_HOLD {
                    state.waited = None;
                    if self.others_waiting() {
                        state.kernel = None;
                        state.step_aside = true;
                        state.poll = true;
                        wake.0.push(thread);
                        break;
                    }
                    state.handoffs = 0;
                    state.since = Instant::now();
                }
                state.handoffs += 1;
            } else if !state.kernel_lock(&self.fifo, mode) {
                state.poll = true;
                wake.0.push(thread);
                break;
            }
            if let Some(head) = state.queue.pop_front() {
                state.holders += 1;
                state.held_mode = mode;
                head.granted.store(true, Ordering::Release);
                wake.0.push(thread);
            }
        }
        if state.queue.is_empty() {
            state.poll = false;
            state.step_aside = false;
            state.failed = None;
            if state.holders == 0 && state.lingering == 0 {
                // Closed, not only unlocked: an idle writer would keep the others waiting.
                state.kernel = None;
                state.waited = None;
            }
        }
        wake
    }

    /// Polls the FIFO until this process holds the lock in `mode` (through the writer
    /// returned, with the announcement to withdraw once the lock is handed on) or `deadline`
    /// passes, announced as a waiter meanwhile.
    fn wait_in_kernel(
        &self,
        mode: Mode,
        deadline: Instant,
        step_aside: bool,
    ) -> io::Result<Option<(File, Waited)>> {
        if step_aside {
            let until = deadline.min(Instant::now() + STEP_ASIDE);
            while self.others_waiting() && Instant::now() < until {
                thread::sleep(STEP_ASIDE_POLL);
            }
        }
        let announcement = lockdir::lock_file(&self.waiting_path).ok();
        if let Some(announcement) = &announcement {
            let _ = flock(announcement, FlockOperation::LockShared);
        }
        // Opened before the first attempt: a reader opened while the FIFO has no writer is not
        // told of a hang-up until a writer has come and gone (the attempt is one).
        let mut reader = open_reader(&self.fifo)?;
        let (mut attempt_now, mut reopened) = (true, false);
        loop {
            if attempt_now {
                if let Some(writer) = attempt(&self.fifo, mode)? {
                    let waited = Waited {
                        _announcement: announcement,
                        _reader: reader,
                    };
                    return Ok(Some((writer, waited)));
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            if hangs_up(&reader, Duration::ZERO)? {
                // No writer now. Woken by a hang-up: try, unless another waiter already won
                // (it is a writer then: the check costs one system call where a lost attempt
                // costs three). Just tried and lost, yet no writer: released just now, or the
                // name now leads to another FIFO (removed and made again); look again through
                // a new reader, and should that recur at once, not in a busy loop.
                if attempt_now {
                    if reopened {
                        thread::sleep(STEP_ASIDE_POLL.min(left));
                    }
                    reader = open_reader(&self.fifo)?;
                    reopened = true;
                }
                attempt_now = true;
                continue;
            }
            reopened = false;
            hangs_up(&reader, left)?;
            attempt_now = false;
        }
    }

    /// Whether a waiter of another process polls for this lock (this process's own is not
    /// polling whenever this is asked).
    fn others_waiting(&self) -> bool {
        lockdir::lock_file(&self.waiting_path)
            .ok()
            .is_some_and(|file| !try_lock(&file, Mode::Exclusive).unwrap_or(true))
    }
}

/// Counts releases in this process, so waiters can sleep until the next one, and the pollers
/// asleep (a release with none wakes nobody: no system call on a test's exit).
static RELEASES: (Mutex<Releases>, Condvar) = (
    Mutex::new(Releases {
        count: 0,
        asleep: 0,
    }),
    Condvar::new(),
);

struct Releases {
    count: u64,
    asleep: u32,
}

fn releases() -> MutexGuard<'static, Releases> {
    RELEASES.0.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Wakes this process's pollers: something they may wait for (permits, a number) was just
/// released.
pub(crate) fn released() {
    let mut releases = releases();
    releases.count += 1;
    if releases.asleep > 0 {
        RELEASES.1.notify_all();
    }
}

/// Calls `attempt` until it yields a value or `deadline` passes (then `None`). Between
/// attempts it sleeps until a release in this process or the end of a growing pause.
pub(crate) fn poll_until<T>(
    deadline: Instant,
    mut attempt: impl FnMut() -> io::Result<Option<T>>,
) -> io::Result<Option<T>> {
    let mut pause = Duration::from_micros(500);
    loop {
        let seen = releases().count;
        if let Some(value) = attempt()? {
            return Ok(Some(value));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        let mut guard = releases();
        // A release since `seen` means the attempt may already succeed: no sleep.
        guard.asleep += 1;
        let (mut guard, _) = RELEASES
            .1
            .wait_timeout_while(guard, pause.min(left), |releases| releases.count == seen)
            .unwrap_or_else(PoisonError::into_inner);
        guard.asleep -= 1;
        drop(guard);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether another process could lock `path` now (another open file description stands
    /// in for it: flock locks conflict between descriptions, not processes).
    fn free_for_others(path: &Path) -> bool {
        let file = attempt(&fifo_path(path), Mode::Exclusive).expect("open the FIFO");
        file.is_some()
    }

    fn take_now(path: &Path) -> Lock {
        Lock::take(path, Mode::Exclusive, Wait::Never)
            .expect("take")
            .expect("the lock is free in this process")
    }

    #[test]
    fn a_lingering_lock_keeps_the_file_locked_until_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("linger.lock");
        let linger = take_now(&path).linger();
        assert!(!free_for_others(&path));
        drop(linger);
        assert!(free_for_others(&path));
    }

    #[test]
    fn a_lock_taken_while_lingering_outlives_the_linger() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("linger.lock");
        let linger = take_now(&path).linger();
        let again = take_now(&path);
        drop(linger);
        assert!(!free_for_others(&path), "still held by `again`");
        drop(again);
        assert!(free_for_others(&path));
    }
}
