//! Bounded waits on OS file locks, with a queue per process in front of each lock file.
//!
//! flock locks belong to an open file description and the kernel drops them when their holder
//! dies, so a holder killed by SIGKILL frees its locks at once. But a blocking `flock` cannot be
//! cancelled, and polling with non-blocking attempts makes every hand-off between processes
//! wait for the next attempt. So each process opens a lock file once ([`Lock::take`]) and
//! queues its own waiters in memory, FIFO:
//!
//! - between threads of this process, a release hands the lock straight to the next local
//!   waiter (one wake-up, no system call): the process keeps the kernel lock meanwhile;
//! - towards other processes, at most one thread per process and lock file waits in the
//!   kernel's queue: an *agent* thread, started the first time the lock is contended and kept
//!   for the life of the process, which blocks in `flock` only while local waiters exist and
//!   wakes the first of them when it wins. A local waiter whose deadline passes simply leaves
//!   the queue; a lock the agent wins for nobody is released at once. So timed-out waits leave
//!   no thread or descriptor behind: threads are bounded by the locks contended, not the waits;
//! - so that another process is never starved by local hand-offs, after
//!   [`FAIR_HANDOFFS`] of them or [`FAIR_HOLD`] holding the kernel lock, the process checks
//!   whether another process waits (agents hold a shared lock on `<lock>.waiting` while they
//!   wait in the kernel) and if so releases the kernel lock and lets its agent queue again
//!   only once the waiters it saw got in (or after [`STEP_ASIDE`]).
//!
//! A lock file can be removed while in use: a temp cleaner ageing out old entries (taking a
//! lock does not update a file's times), `rm -rf` of the isolate directory, a new file renamed
//! over it. Whoever opens the path since creates a new file and locks that, so a lock kept on the
//! old one excludes nobody. Hence a lock is granted only on a file that still has a name: after
//! the kernel lock is taken (the fast non-blocking attempt and the agent's blocking wait alike),
//! and before a local hand-off or a shared join on the kernel lock this process already holds,
//! one `statx` of the open file checks its link count ([`State::is_current`]). A file found
//! without a name is unlocked and the path opened again (its directory, up to the isolate root,
//! made again owner-only), and the wait goes on there, within the waiter's own deadline. So:
//!
//! - no member that waited (in any process), and no member that enters after the removal,
//!   runs beside one that locked the new file: one removal no longer splits a group for as
//!   long as a process keeps the old file open;
//! - what no check can undo: members inside when the file goes stay inside, and a newcomer on
//!   the new file may enter beside them until they leave (nothing left on the file system ties
//!   the two). A shared member already inside may rejoin beside them too ([`Wait::Rejoin`]:
//!   it must not wait for itself);
//! - a lock file (or its directory) moved away whole under another name keeps its link count,
//!   and is not noticed: no cleaner moves files, and looking the path up instead would cost
//!   each entry about twice as much.
//!
//! Waits that are not for a lock (permits, port numbers) poll ([`poll_until`]) and wake when
//! something in this process is released ([`released`]).

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rustix::fs::{flock, FlockOperation};
use rustix::io::Errno;

use crate::{lockdir, sys, Error};

/// Local hand-offs after which another process's waiter, if any, goes first.
const FAIR_HANDOFFS: u32 = 8;
/// How long the process may keep a contended kernel lock for its own threads.
const FAIR_HOLD: Duration = Duration::from_millis(20);
/// The longest a process that stepped aside waits for the others' waiters before it queues.
const STEP_ASIDE: Duration = Duration::from_millis(50);
/// How often a process that stepped aside looks whether the others' waiters got in. Short:
/// until it queues again it is not announced, and the others, checking for waiters after their
/// next few hand-offs (a few hundred µs with short tests), would miss it and keep the lock for
/// as many again.
const STEP_ASIDE_POLL: Duration = Duration::from_micros(100);
/// How long an idle lock file stays open for this process's next use of it: a test's next
/// entry then costs no `open` and `close`, while a file replaced meanwhile (a temp cleaner)
/// is not locked through a stale descriptor for more than this after a busy spell.
const KEEP_OPEN: Duration = Duration::from_secs(1);
/// The most idle lock files a process keeps open, so that a suite of many groups does not
/// eat into the descriptors its tests (and the socket budget) count on.
const MAX_KEPT_OPEN: usize = 32;
/// Idle lock files kept open now, across every queue.
static KEPT_OPEN: AtomicUsize = AtomicUsize::new(0);

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
pub(crate) fn try_lock(file: &File, mode: Mode) -> io::Result<bool> {
    match flock(file, operation(mode, false)) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn operation(mode: Mode, blocking: bool) -> FlockOperation {
    match (mode, blocking) {
        (Mode::Exclusive, false) => FlockOperation::NonBlockingLockExclusive,
        (Mode::Shared, false) => FlockOperation::NonBlockingLockShared,
        (Mode::Exclusive, true) => FlockOperation::LockExclusive,
        (Mode::Shared, true) => FlockOperation::LockShared,
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
    /// Takes the lock file at `path` in `mode`; `None` when `wait` ran out first. Granted only
    /// on a file that still has a name (see [`State::is_current`]).
    pub(crate) fn take(path: &Path, mode: Mode, wait: Wait) -> Result<Option<Lock>, Error> {
        Queue::of(path).take(mode, wait)
    }

    /// Whether a thread of this process holds the lock file at `path` or queues for it.
    pub(crate) fn in_use_here(path: &Path) -> bool {
        let Some(queue) = Queue::all().get(path).cloned() else {
            return false;
        };
        let state = queue.state();
        state.holders > 0 || !state.queue.is_empty() || state.request.is_some() || state.in_kernel
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

    /// Moves this exclusive lock onto the file now at its path if its own was removed or
    /// replaced and the new one is free: a lock kept on a file without a name excludes nobody
    /// who opens the path since. For a lock kept while waiting for another (a group's gate,
    /// which holds shared newcomers back), asked now and then during that wait.
    pub(crate) fn follow(&self) -> Result<(), Error> {
        let mut state = self.queue.state();
        // Held exclusively by this holder alone: nobody else here uses the old file.
        if state.held_mode != Mode::Exclusive || state.is_current() {
            return Ok(());
        }
        let file = lockdir::lock_file(&self.queue.path)?;
        let locked = try_lock(&file, Mode::Exclusive)
            .map_err(|e| Error::io(format!("cannot lock `{}`", self.queue.path.display()), e))?;
        if locked {
            state.kernel_unlock();
            state.file = Some(Arc::new(file));
            state.kernel = Some(Mode::Exclusive);
        }
        Ok(())
    }

    /// Releases the lock after a later wait timed out: the file is closed once unused rather
    /// than kept open, so a failed wait leaves no descriptor behind.
    pub(crate) fn release_after_timeout(self) {
        self.queue.state().idle = Idle::Close;
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

/// Waiters just granted the lock, to wake.
#[must_use = "the granted waiters sleep until woken"]
struct Granted(Vec<Thread>);

impl Granted {
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

/// This process's use of one lock file.
#[derive(Debug)]
struct Queue {
    path: PathBuf,
    waiting_path: PathBuf,
    state: Mutex<State>,
    /// Wakes the agent when it has a lock to wait for.
    agent: Condvar,
}

#[derive(Debug)]
struct State {
    /// The open lock file, while this process uses it and for [`KEEP_OPEN`] after.
    file: Option<Arc<File>>,
    /// What becomes of `file` once unused, or since when it has been kept open unused.
    idle: Idle,
    /// The lock this process holds on `file` in the kernel.
    kernel: Option<Mode>,
    /// Holders in this process, all in `held_mode`.
    holders: u32,
    held_mode: Mode,
    queue: VecDeque<Arc<Waiter>>,
    agent_started: bool,
    /// The lock the agent is asked to wait for; `step_aside` first lets other processes in.
    request: Option<Mode>,
    step_aside: bool,
    /// The agent is waiting in the kernel (or about to): only it may touch the kernel lock.
    in_kernel: bool,
    /// Released locks whose kernel lock is kept for now ([`Lock::linger`]).
    lingering: u32,
    /// Why the waiters queued now fail (the agent's wait failed, or the lock file could not be
    /// opened again): the cause's kind and message.
    failed: Option<(io::ErrorKind, String)>,
    /// Local hand-offs since the kernel lock was taken, and when it was.
    handoffs: u32,
    since: Instant,
}

/// What becomes of a lock file once this process stops using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Idle {
    /// Kept open for the next use (see [`KEEP_OPEN`]).
    Keep,
    /// Closed: a wait on it timed out, and a failed wait leaves no descriptor behind.
    Close,
    /// Unused and kept open since then, counted in [`KEPT_OPEN`].
    KeptSince(Instant),
}

impl State {
    /// Makes the caller a holder at once if it can be, without queueing; fails when the lock
    /// file is gone and cannot be opened again.
    fn grant_now(&mut self, path: &Path, mode: Mode, rejoin: bool) -> Result<bool, Error> {
        let ahead = !self.queue.is_empty() || self.request.is_some() || self.in_kernel;
        if self.holders > 0 {
            let joins = mode == Mode::Shared && self.held_mode == Mode::Shared;
            // A member already inside rejoins whatever became of the file: it is in already.
            if joins && (rejoin || (!ahead && self.is_current())) {
                self.holders += 1;
                return Ok(true);
            }
            return Ok(false);
        }
        if ahead || !self.kernel_lock(path, mode)? {
            return Ok(false);
        }
        self.holders = 1;
        self.held_mode = mode;
        Ok(true)
    }

    /// Holds the kernel lock in `mode` without blocking, if it can be had now, on the file that
    /// is at `path` now. Fails when that file is gone and cannot be opened again (its
    /// directory replaced by a file, say): then `file` is `None`, and no wait can succeed.
    fn kernel_lock(&mut self, path: &Path, mode: Mode) -> Result<bool, Error> {
        if self.kernel == Some(mode) && self.is_current() {
            return Ok(true);
        }
        self.kernel_unlock();
        // A file replaced as we lock it is opened again; the agent's wait takes over after a
        // second (a locking error here recurs in its wait, which reports it to the waiters).
        for _ in 0..2 {
            if self.file.is_none() {
                self.reopen(path)?;
            }
            let Some(file) = self.file.clone() else {
                return Ok(false);
            };
            if !try_lock(&file, mode).unwrap_or(false) {
                return Ok(false);
            }
            if self.is_current() {
                self.kernel = Some(mode);
                self.handoffs = 0;
                self.since = Instant::now();
                return Ok(true);
            }
            let _ = flock(&*file, FlockOperation::Unlock);
            self.reopen(path)?;
        }
        Ok(false)
    }

    /// Whether the open lock file still has a name: one removed, renamed over or gone with its
    /// directory (a temp cleaner, `rm -rf`) is locked by nobody who opens the path since, so a
    /// lock on it guards nothing. Asked whenever a member is let in on a lock this process
    /// holds or has just taken: one `statx` of the open file, no path lookup (which would cost
    /// twice as much, and would see besides only a file moved away whole, which no cleaner
    /// does).
    fn is_current(&self) -> bool {
        self.file.as_deref().is_some_and(sys::is_linked)
    }

    /// Opens the file at `path` in place of the one held open (unlocked), creating it and its
    /// directory if they are gone.
    fn reopen(&mut self, path: &Path) -> Result<(), Error> {
        self.file = None;
        self.file = Some(Arc::new(lockdir::lock_file(path)?));
        Ok(())
    }

    /// Unused now: keeps the file open for the next use if few others are, else closes it.
    fn keep_or_close(&mut self) {
        if matches!(self.idle, Idle::KeptSince(_)) || self.file.is_none() {
            return;
        }
        if self.idle == Idle::Close {
            self.idle = Idle::Keep;
            self.file = None;
        } else if KEPT_OPEN.fetch_add(1, Ordering::Relaxed) < MAX_KEPT_OPEN {
            self.idle = Idle::KeptSince(Instant::now());
        } else {
            KEPT_OPEN.fetch_sub(1, Ordering::Relaxed);
            self.file = None;
        }
    }

    /// Fails the waiters queued now with `cause`.
    fn fail(&mut self, cause: &(dyn std::error::Error + 'static)) {
        // The kind of the I/O error at the bottom, so that `io::Error::from` keeps it.
        let mut kind = io::ErrorKind::Other;
        let mut at = Some(cause);
        while let Some(error) = at {
            kind = error
                .downcast_ref::<io::Error>()
                .map_or(kind, io::Error::kind);
            at = error.source();
        }
        self.failed = Some((kind, cause.to_string()));
        self.queue.iter().for_each(|waiter| waiter.thread.unpark());
    }

    fn kernel_unlock(&mut self) {
        if self.kernel.take().is_some() {
            if let Some(file) = &self.file {
                let _ = flock(&**file, FlockOperation::Unlock);
            }
        }
    }
}

impl Queue {
    /// Every queue of this process, by lock file.
    fn all() -> MutexGuard<'static, HashMap<PathBuf, Arc<Queue>>> {
        static QUEUES: OnceLock<Mutex<HashMap<PathBuf, Arc<Queue>>>> = OnceLock::new();
        QUEUES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The queue of the lock file at `path`, created on first use and kept.
    fn of(path: &Path) -> Arc<Queue> {
        let mut queues = Queue::all();
        if let Some(queue) = queues.get(path) {
            return Arc::clone(queue);
        }
        let mut waiting_path = path.as_os_str().to_owned();
        waiting_path.push(".waiting");
        let queue = Arc::new(Queue {
            path: path.to_owned(),
            waiting_path: waiting_path.into(),
            state: Mutex::new(State {
                file: None,
                idle: Idle::Keep,
                kernel: None,
                holders: 0,
                held_mode: Mode::Exclusive,
                queue: VecDeque::new(),
                agent_started: false,
                request: None,
                step_aside: false,
                in_kernel: false,
                lingering: 0,
                failed: None,
                handoffs: 0,
                since: Instant::now(),
            }),
            agent: Condvar::new(),
        });
        queues.insert(path.to_owned(), Arc::clone(&queue));
        queue
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies `change` to the state, then dispatches and wakes whom that granted; true if
    /// anyone.
    fn update(self: &Arc<Self>, change: impl FnOnce(&mut State)) -> bool {
        let mut state = self.state();
        change(&mut state);
        let granted = self.dispatch(&mut state);
        drop(state);
        granted.wake()
    }

    fn take(self: Arc<Self>, mode: Mode, wait: Wait) -> Result<Option<Lock>, Error> {
        let mut state = self.state();
        if let Idle::KeptSince(since) = state.idle {
            state.idle = Idle::Keep;
            KEPT_OPEN.fetch_sub(1, Ordering::Relaxed);
            if since.elapsed() > KEEP_OPEN {
                state.file = None;
            }
        }
        if state.file.is_none() {
            state.reopen(&self.path)?;
        }
        let (deadline, rejoin) = match wait {
            Wait::Never => (None, false),
            Wait::Until(deadline) => (Some(deadline), false),
            Wait::Rejoin(deadline) => (Some(deadline), true),
        };
        if state.grant_now(&self.path, mode, rejoin)? {
            drop(state);
            return Ok(Some(Lock { queue: self }));
        }
        let Some(deadline) = deadline else {
            let granted = self.dispatch(&mut state);
            drop(state);
            granted.wake();
            return Ok(None);
        };
        let me = Arc::new(Waiter {
            mode,
            thread: thread::current(),
            granted: AtomicBool::new(false),
        });
        state.queue.push_back(Arc::clone(&me));
        let granted = self.dispatch(&mut state);
        drop(state);
        granted.wake();
        let mut state = self.state();
        loop {
            if me.granted.load(Ordering::Acquire) {
                drop(state);
                return Ok(Some(Lock { queue: self }));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let failed = state.failed.clone();
            if left.is_zero() || failed.is_some() {
                state.idle = Idle::Close;
                state.queue.retain(|waiter| !Arc::ptr_eq(waiter, &me));
                let granted = self.dispatch(&mut state);
                drop(state);
                granted.wake();
                return match failed {
                    Some((kind, cause)) => Err(Error::io(
                        format!("cannot lock `{}`", self.path.display()),
                        io::Error::new(kind, cause),
                    )),
                    None => Ok(None),
                };
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

    /// Grants the lock to the waiters at the head of the queue that can have it now, asks the
    /// agent to wait in the kernel for the first one that cannot, and lets the lock file go
    /// when nobody in this process needs it. The granted are woken by the caller, once it has
    /// let go of the state (woken under it, they would block on it at once).
    fn dispatch(self: &Arc<Self>, state: &mut State) -> Granted {
        let mut granted = Granted(Vec::new());
        while let Some(head) = state.queue.front() {
            let mode = head.mode;
            if state.request.is_some() || state.in_kernel {
                break;
            }
            if state.holders > 0 {
                // Shared members join those inside, unless the file was removed or replaced
                // meanwhile: then they wait for them to leave, and lock the new file.
                let joins = mode == Mode::Shared && state.held_mode == Mode::Shared;
                if !joins || !state.is_current() {
                    break;
                }
            } else if state.kernel == Some(mode) && !state.is_current() {
                // The file was removed or replaced while this process held it: whoever opens
                // the path locks another, so no hand-off on this one.
                state.kernel_unlock();
                continue;
            } else if state.kernel == Some(mode) {
                // A hand-off between threads of this process: first, a turn for other
                // processes if this one has had the lock long enough.
                if state.handoffs >= FAIR_HANDOFFS || state.since.elapsed() >= FAIR_HOLD {
                    if self.others_waiting() {
                        state.kernel_unlock();
                        self.ask_agent(state, mode, true);
                        break;
                    }
                    state.handoffs = 0;
                    state.since = Instant::now();
                }
                state.handoffs += 1;
            } else {
                match state.kernel_lock(&self.path, mode) {
                    Ok(true) => {}
                    Ok(false) => {
                        self.ask_agent(state, mode, false);
                        break;
                    }
                    // No file to wait on: the waiters fail (and, gone, let the lock go).
                    Err(e) => {
                        state.fail(&e);
                        break;
                    }
                }
            }
            if let Some(head) = state.queue.pop_front() {
                state.holders += 1;
                state.held_mode = mode;
                head.granted.store(true, Ordering::Release);
                granted.0.push(head.thread.clone());
            }
        }
        if state.queue.is_empty() {
            state.request = None;
            state.step_aside = false;
            state.failed = None;
            if state.holders == 0 && !state.in_kernel && state.lingering == 0 {
                state.kernel_unlock();
                state.keep_or_close();
            }
        }
        granted
    }

    fn ask_agent(self: &Arc<Self>, state: &mut State, mode: Mode, step_aside: bool) {
        state.request = Some(mode);
        state.step_aside |= step_aside;
        if !state.agent_started {
            let queue = Arc::clone(self);
            let spawned = crate::background::spawn(
                "isolate-lock-agent".to_owned(),
                Box::new(move || queue.agent()),
            );
            match spawned {
                Ok(_) => state.agent_started = true,
                Err(e) => {
                    state.request = None;
                    state.fail(&e);
                }
            }
        }
        self.agent.notify_one();
    }

    /// The agent: waits in the kernel on this process's behalf, one request at a time.
    fn agent(self: Arc<Self>) {
        let mut state = self.state();
        loop {
            let Some(mode) = state.request.take() else {
                state = self
                    .agent
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let Some(file) = state.file.clone() else {
                continue;
            };
            let step_aside = std::mem::take(&mut state.step_aside);
            state.in_kernel = true;
            drop(state);
            let waited = self.wait_in_kernel(&file, mode, step_aside);
            state = self.state();
            state.in_kernel = false;
            let waiting = match waited {
                Ok(waiting)
                    if state
                        .file
                        .as_ref()
                        .is_some_and(|open| Arc::ptr_eq(open, &file))
                        && state.is_current() =>
                {
                    state.kernel = Some(mode);
                    state.handoffs = 0;
                    state.since = Instant::now();
                    waiting
                }
                // Won on a file removed or replaced while we waited: let it go, and wait
                // again on the file at the path (asked by `dispatch` below, if anyone still
                // waits: each waiter's deadline bounds its own wait).
                Ok(_) => {
                    let _ = flock(&*file, FlockOperation::Unlock);
                    if let Err(e) = state.reopen(&self.path) {
                        state.fail(&e);
                    }
                    None
                }
                Err(errno) => {
                    state.fail(&io::Error::from(errno));
                    None
                }
            };
            // Wakes the first waiter, or releases a lock won for nobody.
            let granted = self.dispatch(&mut state);
            drop(state);
            let woke = granted.wake();
            drop(waiting);
            if woke {
                // As in `Lock::drop`: the waiter may be queued on this CPU.
                thread::yield_now();
            }
            state = self.state();
        }
    }

    /// Blocks until this process holds `file` in `mode`, announced as a waiter meanwhile.
    /// Returns the announcement, to withdraw once the lock is handed on.
    fn wait_in_kernel(
        &self,
        file: &File,
        mode: Mode,
        step_aside: bool,
    ) -> Result<Option<File>, Errno> {
        if step_aside {
            let until = Instant::now() + STEP_ASIDE;
            while self.others_waiting() && Instant::now() < until {
                thread::sleep(STEP_ASIDE_POLL);
            }
        }
        let waiting = lockdir::lock_file(&self.waiting_path).ok();
        if let Some(waiting) = &waiting {
            let _ = flock(waiting, FlockOperation::LockShared);
        }
        loop {
            match flock(file, operation(mode, true)) {
                Ok(()) => return Ok(waiting),
                Err(Errno::INTR) => {}
                Err(errno) => return Err(errno),
            }
        }
    }

    /// Whether an agent of another process waits in the kernel for this lock file (this
    /// process's agent is not waiting whenever this is asked).
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
        let file = lockdir::lock_file(path).expect("open the lock file");
        try_lock(&file, Mode::Exclusive).expect("flock")
    }

    fn take_now(path: &Path) -> Lock {
        Lock::take(path, Mode::Exclusive, Wait::Never)
            .expect("take")
            .expect("the lock is free in this process")
    }

    /// Stands in for another process that opens the path after the lock file was removed:
    /// it creates a new file there and locks it.
    fn newcomer(path: &Path, removed: bool) -> File {
        if removed {
            std::fs::remove_file(path).expect("remove the lock file");
        }
        let file = lockdir::lock_file(path).expect("open the new lock file");
        assert!(
            try_lock(&file, Mode::Exclusive).expect("flock"),
            "a new file"
        );
        file
    }

    fn take_within(path: &Path, mode: Mode, wait: Duration) -> Option<Lock> {
        Lock::take(path, mode, Wait::Until(Instant::now() + wait)).expect("take")
    }

    #[test]
    fn a_kept_open_file_that_was_removed_is_not_locked_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("kept.lock");
        drop(take_now(&path));
        let _newcomer = newcomer(&path, true);
        let again = Lock::take(&path, Mode::Exclusive, Wait::Never).expect("take");
        assert!(
            again.is_none(),
            "locked the removed file, beside the newcomer"
        );
    }

    /// A thread that queued behind a member inside when the file was removed is not handed
    /// the old file's lock: it waits for the newcomer on the new one.
    #[test]
    fn no_hand_off_on_a_removed_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("handoff.lock");
        let inside = take_now(&path);
        let waiter = thread::spawn({
            let path = path.clone();
            move || take_within(&path, Mode::Exclusive, Duration::from_millis(300)).is_some()
        });
        while !inside.has_waiters() {
            thread::sleep(Duration::from_millis(1));
        }
        let newcomer = newcomer(&path, true);
        drop(inside);
        assert!(
            !waiter.join().expect("waiter"),
            "handed the removed file's lock"
        );
        drop(newcomer);
        assert!(take_within(&path, Mode::Exclusive, Duration::from_secs(300)).is_some());
    }

    /// Nor is a lock this process keeps for its threads ([`Lock::linger`]) taken again once
    /// its file was removed.
    #[test]
    fn a_lingering_lock_on_a_removed_file_is_not_taken_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("linger.lock");
        let linger = take_now(&path).linger();
        let newcomer = newcomer(&path, true);
        let again = Lock::take(&path, Mode::Exclusive, Wait::Never).expect("take");
        assert!(
            again.is_none(),
            "took the removed file's lock, beside the newcomer"
        );
        drop((linger, newcomer));
        assert!(take_within(&path, Mode::Exclusive, Duration::from_secs(300)).is_some());
    }

    /// Nor does a shared member join those inside on a replaced file; one already inside
    /// rejoins all the same (it must not wait for itself).
    #[test]
    fn no_shared_join_on_a_replaced_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("shared.lock");
        let inside = Lock::take(&path, Mode::Shared, Wait::Never)
            .expect("take")
            .expect("free");
        let new = dir.path().join("new");
        drop(lockdir::lock_file(&new).expect("a new file"));
        std::fs::rename(&new, &path).expect("rename it over the lock file");
        let newcomer = newcomer(&path, false);
        let joined = thread::spawn({
            let path = path.clone();
            move || take_within(&path, Mode::Shared, Duration::from_millis(300)).is_some()
        });
        assert!(
            !joined.join().expect("joiner"),
            "joined on the replaced file"
        );
        let deadline = Instant::now() + Duration::from_secs(300);
        let rejoined = Lock::take(&path, Mode::Shared, Wait::Rejoin(deadline)).expect("take");
        assert!(rejoined.is_some());
        drop((rejoined, inside, newcomer));
        assert!(take_within(&path, Mode::Shared, Duration::from_secs(300)).is_some());
    }

    /// A waiter whose lock file is gone and cannot be made again (its directory replaced by
    /// a file) is told so at once, with the path: it does not sit out its whole wait, nor
    /// leave the agent thread waiting for nobody.
    #[test]
    fn a_lock_file_that_cannot_be_made_again_fails_its_waiters() {
        let dir = tempfile::tempdir().expect("temp dir");
        let locks = dir.path().join("locks");
        let path = locks.join("unmade.lock");
        let inside = take_now(&path);
        let waiter = thread::spawn({
            let path = path.clone();
            move || Lock::take(&path, Mode::Exclusive, Wait::Until(Instant::now() + WAIT))
        });
        while !inside.has_waiters() {
            thread::sleep(Duration::from_millis(1));
        }
        std::fs::remove_dir_all(&locks).expect("remove the lock directory");
        std::fs::write(&locks, "").expect("a file in its place");
        drop(inside);
        let error = waiter.join().expect("waiter").expect_err("cannot be made");
        assert!(error.to_string().contains("unmade.lock"), "{error}");
        // Once it can be made again, it is taken.
        std::fs::remove_file(&locks).expect("remove the file");
        assert!(take_within(&path, Mode::Exclusive, WAIT).is_some());
    }

    /// How long a wait that must not time out may take, at most.
    const WAIT: Duration = Duration::from_secs(30);

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
