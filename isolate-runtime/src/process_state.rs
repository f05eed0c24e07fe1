//! Process-wide state as a resource: the environment variables (`env`) and the working
//! directory (`cwd`).
//!
//! Both belong to the process, not to a test: a test that changes them changes them for every
//! thread. So each has one in-process reader-writer gate: a writer runs alone among the tests of
//! its process that declare the same state, readers run beside each other, and a writer puts
//! back what it changed before the next one gets in. The gate never poisons (a panicking holder
//! releases it like any other), every wait is bounded by the test's timeout, and a waiting
//! writer holds back new readers so it is not starved. A take on the writer's own thread (a
//! helper the writing test calls) joins the writer; a writer's take on a reader's thread is
//! refused at once, as it would wait for itself.
//!
//! The gates are per process on purpose: another process has its own environment and working
//! directory, so a lock across processes (under nextest, one per test) would only serialize
//! tests that cannot interfere.
//!
//! # What is protected, and what is not
//!
//! Since edition 2024 `std::env::set_var` and `remove_var` are `unsafe`: on most platforms
//! reading the environment (`getenv`, also inside libc: DNS resolution, time zones, locale) while
//! another thread writes it is undefined behaviour. The gate makes a writer the only annotated
//! test of its process running while it holds `env`, so among tests that declare `env` or
//! `env(read)` no read races a write: that is the contract the `unsafe` asks you to uphold. It
//! cannot stop code that declares nothing (a test without the attribute, a library's background
//! thread), nor a thread the test spawned and left running after it returned: such code must
//! not touch the environment, or its tests must declare `env(read)` too.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::Error;

/// How a test holds process-wide state: `env` / `cwd` write it, `env(read)` / `cwd(read)` only
/// read it.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Access, Spec};
///
/// static SPEC: Spec = Spec::new("doc::access").env(Access::Write).cwd(Access::Read);
/// assert_eq!(SPEC.env_access(), Some(Access::Write));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// Beside other readers, never beside a writer.
    Read,
    /// Alone; what it changed is put back when the test ends.
    Write,
}

/// Which process-wide state a gate guards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Env,
    Cwd,
}

impl State {
    fn key(self) -> &'static str {
        match self {
            State::Env => "env",
            State::Cwd => "cwd",
        }
    }

    fn gate(self) -> &'static Gate {
        static ENV: Gate = Gate::new();
        static CWD: Gate = Gate::new();
        match self {
            State::Env => &ENV,
            State::Cwd => &CWD,
        }
    }
}

/// A reader-writer gate that names its holders and never poisons.
#[derive(Debug)]
struct Gate {
    holders: Mutex<Holders>,
    changed: Condvar,
}

#[derive(Debug)]
struct Holders {
    /// Thread and test of each reader, and of the writer.
    readers: Vec<(ThreadId, String)>,
    writer: Option<(ThreadId, String)>,
    /// Takes on the writer's thread while it holds the gate (a helper with `env` or
    /// `env(read)` that the writing test calls), not yet dropped: the last of them and the
    /// writer to drop releases the gate.
    joined: usize,
    /// The writer and the helpers that joined it as writers, in the order they came: each puts
    /// back what it changed from what it found, which is right only last first. One that ends
    /// before a later one (an async helper may outlive the test that started it) leaves what
    /// it must put back here, for the last of those after it.
    unwinding: Vec<Unwinding>,
    /// Numbers the entries of `unwinding`.
    taken: u64,
    /// The test of each writer waiting, in the order they came.
    waiting_writers: Vec<String>,
    /// Threads asleep on `changed`: a release wakes them only if there are some, since a
    /// wake-up is a system call even with nobody to wake.
    sleeping: usize,
    /// The `env` writer's copy of the environment, handed from writer to writer emptied, so
    /// that copying it does not allocate a vector each time (a large allocation also makes the
    /// allocator sort its free lists).
    spare: Vec<(OsString, OsString)>,
}

impl Gate {
    const fn new() -> Gate {
        Gate {
            holders: Mutex::new(Holders {
                readers: Vec::new(),
                writer: None,
                joined: 0,
                unwinding: Vec::new(),
                taken: 0,
                waiting_writers: Vec::new(),
                sleeping: 0,
                spare: Vec::new(),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Holders> {
        self.holders.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Releases `holders`, then wakes the threads waiting for a change, if any.
    fn release(&self, holders: MutexGuard<'_, Holders>) {
        let sleeping = holders.sleeping > 0;
        drop(holders);
        if sleeping {
            self.changed.notify_all();
        }
    }
}

/// A writer in [`Holders::unwinding`]: what it must put back once it has ended.
#[derive(Debug)]
struct Unwinding {
    id: u64,
    ended: Option<Restore>,
}

impl Holders {
    /// Notes a writer in `unwinding`; its id.
    fn push_writer(&mut self) -> u64 {
        self.taken += 1;
        let id = self.taken;
        self.unwinding.push(Unwinding { id, ended: None });
        id
    }

    /// The writer `id` has ended with `restore` to do: the putting back to do now, last first
    /// (its own, then those of the writers before it that ended already), or none if a writer
    /// that came after it is still in (it is left for that one).
    fn end_writer(&mut self, id: u64, restore: Restore) -> Vec<Restore> {
        let Some(at) = self.unwinding.iter().position(|entry| entry.id == id) else {
            return vec![restore];
        };
        if at + 1 < self.unwinding.len() {
            self.unwinding[at].ended = Some(restore);
            return Vec::new();
        }
        self.unwinding.pop();
        let mut due = vec![restore];
        while let Some(Unwinding { ended: Some(_), .. }) = self.unwinding.last() {
            due.extend(self.unwinding.pop().and_then(|entry| entry.ended));
        }
        due
    }
}

/// Holds `state` in some mode until dropped; a writer first puts back what the test changed.
#[derive(Debug)]
pub(crate) struct StateLock {
    state: State,
    access: Access,
    /// The thread that took it (a guard may drop on another, in an async test).
    thread: ThreadId,
    /// Taken on the thread of the writer holding the gate: it joined the writer.
    joined: bool,
    /// A writer's entry in [`Holders::unwinding`].
    writer_id: Option<u64>,
    restore: Restore,
}

#[derive(Debug)]
enum Restore {
    Nothing,
    /// In the environment's own order, so an unchanged one compares equal pair by pair.
    Env(Vec<(OsString, OsString)>),
    /// The directory itself, not its path: a test that removes or renames the directory it
    /// started in still goes back to it, and the next test finds the process where this one
    /// found it instead of failing to read a path that is gone.
    Cwd(OwnedFd),
}

/// Takes `state` for `test` in `access`, waiting until `deadline`.
pub(crate) fn take(
    state: State,
    access: Access,
    test: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<StateLock, Error> {
    let gate = state.gate();
    let thread = std::thread::current().id();
    let mut holders = gate.lock();
    let mine = |entry: &(ThreadId, String)| entry.0 == thread;
    if holders.writer.as_ref().is_some_and(mine) {
        // A helper the writer calls, on its thread: nothing else of this process can run
        // meanwhile, so it joins the writer (a writer putting back what it changed itself).
        holders.joined += 1;
        let writer_id = (access == Access::Write).then(|| holders.push_writer());
        drop(holders);
        return StateLock::new(state, access, thread, true, writer_id, Vec::new());
    }
    let reading = holders.readers.iter().find(|entry| mine(entry));
    if let (Some((_, holder)), Access::Write) = (reading, access) {
        return Err(Error::config(format!(
            "`{test}` cannot take `{key}` as a writer: this thread already holds `{key}` as a \
             reader, for `{holder}`, so it would wait for itself until the timeout; declare \
             `{key}` as a writer on `{holder}` (`#[isolated({key})]`): the helpers it calls on \
             its thread then join it",
            key = state.key(),
        )));
    }
    let held = reading.is_some();
    // Whether this writer is in `waiting_writers`: only once it must wait, so a writer that
    // finds the gate free costs no queueing.
    let mut queued = false;
    loop {
        let free = match access {
            // A thread already reading joins at once: a writer waiting for it must not block it.
            Access::Read => {
                holders.writer.is_none() && (holders.waiting_writers.is_empty() || held)
            }
            Access::Write => holders.writer.is_none() && holders.readers.is_empty(),
        };
        if free {
            break;
        }
        if access == Access::Write && !queued {
            holders.waiting_writers.push(test.to_owned());
            queued = true;
        }
        let now = Instant::now();
        if now >= deadline {
            let message = timeout_message(state, access, &holders, timeout);
            if queued {
                unqueue(&mut holders.waiting_writers, test);
                // Readers held back by this writer may go now.
                gate.release(holders);
            }
            return Err(Error::timeout(message));
        }
        holders.sleeping += 1;
        holders = gate
            .changed
            .wait_timeout(holders, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        holders.sleeping -= 1;
    }
    match access {
        Access::Read => holders.readers.push((thread, test.to_owned())),
        Access::Write => {
            if queued {
                unqueue(&mut holders.waiting_writers, test);
            }
            holders.writer = Some((thread, test.to_owned()));
        }
    }
    let writer_id = (access == Access::Write).then(|| holders.push_writer());
    let spare = if access == Access::Write {
        std::mem::take(&mut holders.spare)
    } else {
        Vec::new()
    };
    drop(holders);
    StateLock::new(state, access, thread, false, writer_id, spare)
}

/// Removes one waiting writer of `test`'s name (the order of the rest is kept).
fn unqueue(waiting: &mut Vec<String>, test: &str) {
    if let Some(i) = waiting.iter().position(|name| name == test) {
        waiting.remove(i);
    }
}

impl StateLock {
    /// The lock on a gate taken already; a writer notes what to put back.
    fn new(
        state: State,
        access: Access,
        thread: ThreadId,
        joined: bool,
        writer_id: Option<u64>,
        spare: Vec<(OsString, OsString)>,
    ) -> Result<StateLock, Error> {
        let mut lock = StateLock {
            state,
            access,
            thread,
            joined,
            writer_id,
            restore: Restore::Nothing,
        };
        // On error the lock drops, restoring nothing and releasing the gate.
        lock.restore = match (access, state) {
            (Access::Read, _) => Restore::Nothing,
            (Access::Write, State::Env) => Restore::Env(read_env(spare)),
            (Access::Write, State::Cwd) => {
                crate::sys::open_cwd().map(Restore::Cwd).map_err(|e| {
                    Error::io(
                        "cannot open the working directory, to restore it after the test",
                        e,
                    )
                })?
            }
        };
        Ok(lock)
    }
}

fn kind(access: Access) -> &'static str {
    match access {
        Access::Read => "reader",
        Access::Write => "writer",
    }
}

fn timeout_message(state: State, access: Access, holders: &Holders, timeout: Duration) -> String {
    let names: Vec<String> = holders
        .writer
        .iter()
        .chain(&holders.readers)
        .map(|(_, test)| format!("`{test}`"))
        .collect();
    let held = if names.is_empty() {
        "no holder now".to_owned()
    } else {
        format!("held by {}", names.join(", "))
    };
    // A reader waits behind the writers queued before it, not only for the holders.
    let queued = if access == Access::Read && !holders.waiting_writers.is_empty() {
        let writers: Vec<String> = holders
            .waiting_writers
            .iter()
            .map(|test| format!("`{test}`"))
            .collect();
        format!(
            "; new readers wait behind the writers queued for it: {}",
            writers.join(", ")
        )
    } else {
        String::new()
    };
    // The holders are tests of this very process: one may be waiting for this take itself,
    // which no wait ends (a helper with the attribute, run on a thread the test spawned).
    format!(
        "timed out after {:.1}s waiting to take `{key}` as a {} ({held}{queued}, in this \
         process); if a holder runs this on another thread and waits for it (a helper with \
         `{key}` called from a thread its test spawned), it never releases: declare `{key}` on \
         the test only, not on helpers it runs on other threads; if the holder is legitimately \
         slow, {}",
        timeout.as_secs_f64(),
        kind(access),
        crate::env::raise_the_wait(),
        key = state.key(),
    )
}

/// Every variable, in the environment's own order, into `spare` (empty, kept between writers).
fn read_env(mut spare: Vec<(OsString, OsString)>) -> Vec<(OsString, OsString)> {
    spare.extend(std::env::vars_os());
    spare
}

/// Whether `std::env::set_var` accepts the name: it panics on an empty one, or one with `=` or
/// NUL (a name read from the environment may start with `=` on some platforms).
fn settable(name: &OsStr) -> bool {
    let bytes = name.to_string_lossy();
    !bytes.is_empty() && !bytes.contains(['=', '\0'])
}

/// Puts back every variable the test set, changed or removed, to its value in `before`; a
/// variable the test left alone keeps its value, whoever set it before the test.
fn restore_env(before: &[(OsString, OsString)]) {
    let mut now = std::env::vars_os();
    // The environment keeps its order while nothing changes, so an unchanged one is compared
    // pair by pair as it is read, without copying it again or hashing.
    let mut same = 0;
    let first_change = loop {
        match now.next() {
            None if same == before.len() => return,
            None => break None,
            Some(var) if before.get(same).is_some_and(|was| same_pair(was, &var)) => same += 1,
            Some(var) => break Some(var),
        }
    };
    let now: Vec<(OsString, OsString)> = first_change.into_iter().chain(now).collect();
    let rest = &before[same..];
    // `setenv` replaces a variable in place or appends it, `unsetenv` closes the gap: what
    // follows the last change still matches pair by pair, from the end.
    let tail = now
        .iter()
        .rev()
        .zip(rest.iter().rev())
        .take_while(|(now, before)| now == before)
        .count();
    undo(before, &rest[..rest.len() - tail], &now[..now.len() - tail]);
}

/// Whether two variables are equal, name and value. Compared a word at a time, inline: most
/// names and values are a few words long, and a call to `memcmp` for each (what `==` makes)
/// cost more than the comparing itself (0.6 µs of a writer's 6 with 58 variables).
fn same_pair(a: &(OsString, OsString), b: &(OsString, OsString)) -> bool {
    same_bytes(a.0.as_bytes(), b.0.as_bytes()) && same_bytes(a.1.as_bytes(), b.1.as_bytes())
}

fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (words_a, words_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let word = |bytes: &[u8]| u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
    let rest_same = words_a
        .remainder()
        .iter()
        .zip(words_b.remainder())
        .all(|(a, b)| a == b);
    rest_same && words_a.zip(words_b).all(|(a, b)| word(a) == word(b))
}

/// Puts back what differs between `changed`, a part of `before` (the whole environment at
/// entry), and `now`, the matching part of the environment now: the pairs around the two parts
/// are the same in both.
fn undo(
    before: &[(OsString, OsString)],
    changed: &[(OsString, OsString)],
    now: &[(OsString, OsString)],
) {
    // The first of a name held twice is the one `getenv` sees.
    let mut old: HashMap<&OsStr, (&OsStr, bool)> = HashMap::with_capacity(changed.len());
    for (name, value) in changed {
        old.entry(name).or_insert((value, false));
    }
    for (name, value) in now {
        let was = match old.get_mut(name.as_os_str()) {
            Some((was, seen)) => {
                *seen = true;
                Some(*was)
            }
            // Set by the test; or, for a name the environment held twice from the start (std
            // never makes a second), its value elsewhere in `before`.
            None => before
                .iter()
                .find(|(before, _)| before == name)
                .map(|(_, value)| value.as_os_str()),
        };
        match was {
            Some(was) if was == value => {}
            Some(was) => put(name, Some(was)),
            None => put(name, None),
        }
    }
    // Removed ones come back in the order they had, not the map's, which differs from run to
    // run: a later test that shows the environment would see it shuffled.
    for (name, _) in changed {
        if let Some((was, seen @ false)) = old.get_mut(name.as_os_str()) {
            *seen = true;
            put(name, Some(was));
        }
    }
}

/// Sets `name` to `value`, or removes it; skips what would make `std::env` panic (in a drop,
/// maybe while unwinding): a name or value read from the environment that it would refuse.
fn put(name: &OsStr, value: Option<&OsStr>) {
    if !settable(name) {
        return;
    }
    match value {
        Some(value) if !value.to_string_lossy().contains('\0') => std::env::set_var(name, value),
        Some(_) => {}
        None => std::env::remove_var(name),
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let restore = std::mem::replace(&mut self.restore, Restore::Nothing);
        let gate = self.state.gate();
        let due = match self.writer_id {
            Some(id) => gate.lock().end_writer(id, restore),
            None => Vec::new(),
        };
        // Outside the gate's mutex: the gate stays held meanwhile, so nobody else gets in.
        let mut spare = None;
        for restore in due {
            spare = put_back(restore).or(spare);
        }
        let mut holders = gate.lock();
        if self.joined || self.access == Access::Write {
            // The writer and those that joined it, in any order (an async test's helpers
            // may end after it): the last one releases the gate.
            if holders.joined > 0 {
                holders.joined -= 1;
            } else {
                holders.writer = None;
            }
        } else if let Some(i) = holders.readers.iter().position(|(t, _)| *t == self.thread) {
            holders.readers.swap_remove(i);
        }
        if let Some(spare) = spare {
            holders.spare = spare;
        }
        gate.release(holders);
    }
}

/// Puts back what a writer changed; an `env` writer's copy comes back emptied, for the next.
fn put_back(restore: Restore) -> Option<Vec<(OsString, OsString)>> {
    match restore {
        Restore::Nothing => None,
        Restore::Env(mut before) => {
            restore_env(&before);
            before.clear();
            Some(before)
        }
        Restore::Cwd(dir) => {
            if let Err(e) = rustix::process::fchdir(&dir) {
                // Nothing to fail from a drop: say why the next test may start elsewhere.
                eprintln!(
                    "isolate: cannot go back to the working directory the test started in: {e}"
                );
            }
            None
        }
    }
}

/// Whether some test of this process holds `env` as a writer now.
fn env_writer_held() -> bool {
    State::Env.gate().lock().writer.is_some()
}

fn check_writer(call: &str) -> Result<(), Error> {
    if env_writer_held() {
        Ok(())
    } else {
        Err(Error::config(format!(
            "`isolate::vars::{call}` needs a test that holds `env` as a writer \
             (`#[isolated(env)]`), so that no annotated test reads the environment meanwhile \
             and the change is undone when the test ends"
        )))
    }
}

fn check_name(name: &OsStr) -> Result<(), Error> {
    if settable(name) {
        Ok(())
    } else {
        Err(Error::config(format!(
            "cannot use `{}` as an environment variable name: it must be non-empty, without `=` \
             or NUL",
            name.to_string_lossy()
        )))
    }
}

/// Sets the environment variable `name` to `value` from a test with `#[isolated(env)]`; it
/// is put back when the test ends.
///
/// The safe form of `std::env::set_var` (an `unsafe fn` since edition 2024): it refuses to run
/// unless a test of this process holds `env` as a writer, and reports a bad name or value as an
/// error instead of panicking.
///
/// # Errors
///
/// When no test of this process holds `env` as a writer, when `name` is empty or contains `=`
/// or NUL, or when `value` contains NUL.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{vars, Access, Spec, enter};
///
/// static SPEC: Spec = Spec::new("doc::vars_set").env(Access::Write);
/// let guard = enter(&SPEC);
/// vars::set("DOC_VARS_SET", "1")?;
/// assert_eq!(std::env::var("DOC_VARS_SET").as_deref(), Ok("1"));
/// drop(guard);
/// assert!(std::env::var_os("DOC_VARS_SET").is_none(), "put back when the test ends");
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn set(name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Result<(), Error> {
    let (name, value) = (name.as_ref(), value.as_ref());
    check_writer("set")?;
    check_name(name)?;
    if value.to_string_lossy().contains('\0') {
        return Err(Error::config(format!(
            "cannot set `{}`: the value contains NUL",
            name.to_string_lossy()
        )));
    }
    std::env::set_var(name, value);
    Ok(())
}

/// Removes the environment variable `name` from a test with `#[isolated(env)]`; it is put back
/// when the test ends. The safe form of `std::env::remove_var`, like [`set`].
///
/// # Errors
///
/// When no test of this process holds `env` as a writer, or when `name` is empty or contains
/// `=` or NUL.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{vars, Access, Spec, enter};
///
/// static SPEC: Spec = Spec::new("doc::vars_remove").env(Access::Write);
/// let guard = enter(&SPEC);
/// vars::remove("HOME")?;
/// assert!(std::env::var_os("HOME").is_none());
/// # drop(guard);
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn remove(name: impl AsRef<OsStr>) -> Result<(), Error> {
    let name = name.as_ref();
    check_writer("remove")?;
    check_name(name)?;
    std::env::remove_var(name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(ms: u64) -> (Instant, Duration) {
        let timeout = Duration::from_millis(ms);
        (Instant::now() + timeout, timeout)
    }

    #[test]
    fn a_writer_puts_back_what_it_changed() {
        let (until, timeout) = deadline(60_000);
        let writer = take(State::Env, Access::Write, "w", until, timeout).unwrap();
        // Set by cargo and nextest for every test binary they run.
        let (name, version) = (
            std::env::var_os("CARGO_PKG_NAME"),
            std::env::var_os("CARGO_PKG_VERSION"),
        );
        std::env::set_var("ISOLATE_UNIT_NEW", "1");
        std::env::set_var("CARGO_PKG_NAME", "changed");
        std::env::remove_var("CARGO_PKG_VERSION");
        drop(writer);
        assert!(std::env::var_os("ISOLATE_UNIT_NEW").is_none());
        assert_eq!(std::env::var_os("CARGO_PKG_NAME"), name);
        assert_eq!(std::env::var_os("CARGO_PKG_VERSION"), version);
    }

    /// The environment's names in its order, but PATH and TMPDIR: the other tests of this
    /// binary spawn programs and make temp dirs meanwhile, outside the gate (one found its
    /// `cat` missing while PATH, in the middle of the environment, was "changed in place").
    fn changeable_names() -> Vec<OsString> {
        std::env::vars_os()
            .map(|(name, _)| name)
            .filter(|name| name != "PATH" && name != "TMPDIR")
            .collect()
    }

    fn sorted_env() -> Vec<(OsString, OsString)> {
        let mut vars: Vec<_> = std::env::vars_os().collect();
        vars.sort();
        vars
    }

    /// Held by the tests below that change the environment outside the gate, or compare all
    /// of it after their writer is gone.
    static OUTSIDE: Mutex<()> = Mutex::new(());

    #[test]
    fn changes_out_of_order_are_put_back_exactly() {
        let _outside = OUTSIDE.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, timeout) = deadline(60_000);
        let writer = take(State::Env, Access::Write, "w", until, timeout).unwrap();
        let entry = sorted_env();
        let order = changeable_names();
        assert!(order.len() >= 3, "{order:?}");
        let (first, middle, last) = (&order[0], &order[order.len() / 2], &order[order.len() - 1]);
        // Removed and added again with the same value: now last, yet unchanged.
        let value = std::env::var_os(first).unwrap();
        std::env::remove_var(first);
        std::env::set_var(first, value);
        std::env::set_var(middle, "changed in place");
        std::env::remove_var(last);
        std::env::set_var("ISOLATE_UNIT_ADDED_1", "1");
        std::env::set_var("ISOLATE_UNIT_ADDED_2", "2");
        drop(writer);
        let _reader = take(State::Env, Access::Read, "r", until, timeout).unwrap();
        assert_eq!(sorted_env(), entry);
    }

    /// A test that clears variables (figment's `Jail::clear_env`) gets them back in their
    /// order, not a hash map's: a later test that shows the environment (a child's `env`, a
    /// snapshot of `vars()`) must not see it shuffled differently on every run.
    #[test]
    fn removed_variables_come_back_in_their_order() {
        let _outside = OUTSIDE.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, timeout) = deadline(60_000);
        let names: Vec<String> = (0..16).map(|i| format!("ISOLATE_UNIT_ORDER_{i}")).collect();
        // Set last, so that they end the environment, where setting them again puts them.
        for name in &names {
            std::env::set_var(name, "x");
        }
        let writer = take(State::Env, Access::Write, "w", until, timeout).unwrap();
        let entry: Vec<_> = std::env::vars_os().collect();
        for name in &names {
            std::env::remove_var(name);
        }
        drop(writer);
        let writer = take(State::Env, Access::Write, "w", until, timeout).unwrap();
        let restored: Vec<_> = std::env::vars_os().collect();
        for name in &names {
            std::env::remove_var(name);
        }
        drop(writer);
        for name in &names {
            std::env::remove_var(name);
        }
        assert_eq!(restored, entry);
    }

    /// A differential test of the restore: random sets, removals and re-sets of new and
    /// existing variables (first, middle and last in the environment's order, own values,
    /// values that are not UTF-8), after which the environment must be the one at entry.
    #[test]
    fn random_changes_are_put_back_exactly() {
        let _outside = OUTSIDE.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, timeout) = deadline(60_000);
        let own: Vec<OsString> = (0..4)
            .map(|i| OsString::from(format!("ISOLATE_UNIT_OWN_{i}")))
            .collect();
        for (i, name) in own.iter().enumerate() {
            std::env::set_var(name, format!("own {i}"));
        }
        let mut next = crate::test_rng::below(0x9e37_79b9_7f4a_7c15_u64);
        let values = [
            OsStr::new("a"),
            OsStr::new(""),
            OsStr::new("a longer value"),
            OsStr::from_bytes(b"\xff\xfe not utf-8"),
        ];
        for round in 0..400 {
            let writer = take(State::Env, Access::Write, "w", until, timeout).unwrap();
            let entry = sorted_env();
            let order = changeable_names();
            let mut names = vec![
                order[0].clone(),
                order[order.len() / 2].clone(),
                order[order.len() - 1].clone(),
                OsString::from("ISOLATE_UNIT_NEW_A"),
                OsString::from("ISOLATE_UNIT_NEW_B"),
            ];
            names.extend(own.iter().cloned());
            let mut done = Vec::new();
            for _ in 0..=next(12) {
                let name = &names[next(names.len())];
                match next(4) {
                    0 => {
                        std::env::remove_var(name);
                        done.push(format!("remove {name:?}"));
                    }
                    1 => {
                        // To its own value, at entry or now.
                        let value = std::env::var_os(name).unwrap_or_else(|| "x".into());
                        std::env::set_var(name, &value);
                        done.push(format!("set {name:?} to itself {value:?}"));
                    }
                    _ => {
                        let value = values[next(values.len())];
                        std::env::set_var(name, value);
                        done.push(format!("set {name:?} {value:?}"));
                    }
                }
            }
            drop(writer);
            let reader = take(State::Env, Access::Read, "r", until, timeout).unwrap();
            let exit = sorted_env();
            drop(reader);
            assert!(exit == entry, "round {round}: {done:#?}");
        }
        for name in &own {
            std::env::remove_var(name);
        }
    }

    #[test]
    fn changes_made_between_writers_are_kept() {
        let _outside = OUTSIDE.lock().unwrap_or_else(PoisonError::into_inner);
        let (until, timeout) = deadline(60_000);
        let name = "ISOLATE_UNIT_BETWEEN";
        let first = take(State::Env, Access::Write, "first", until, timeout).unwrap();
        std::env::set_var(name, "first writer");
        drop(first);
        assert_eq!(std::env::var_os(name), None);
        // Code that declares nothing changes it between two writers...
        std::env::set_var(name, "undeclared");
        let second = take(State::Env, Access::Write, "second", until, timeout).unwrap();
        std::env::set_var("ISOLATE_UNIT_SECOND", "1");
        drop(second);
        // ...and the next writer, which did not touch it, leaves it as it found it.
        let kept = std::env::var(name);
        std::env::remove_var(name);
        assert_eq!(kept.as_deref(), Ok("undeclared"));
        assert_eq!(std::env::var_os("ISOLATE_UNIT_SECOND"), None);
    }

    #[test]
    fn a_writer_inside_a_reader_is_refused_not_a_deadlock() {
        let (until, timeout) = deadline(60_000);
        let reader = take(State::Cwd, Access::Read, "outer", until, timeout).unwrap();
        let again = take(State::Cwd, Access::Read, "r", until, timeout).unwrap();
        let error = take(State::Cwd, Access::Write, "inner", until, timeout).unwrap_err();
        assert!(
            error.to_string().contains(
                "`inner` cannot take `cwd` as a writer: this thread already holds `cwd` as a \
                 reader, for `outer`, so it would wait for itself"
            ),
            "{error}"
        );
        drop((again, reader));
    }

    /// Helpers a writer calls on its thread join it, in any order of drops; the gate is
    /// released by the last, and each nested writer puts back what it changed itself.
    #[test]
    fn helpers_on_the_writers_thread_join_it() {
        let (until, timeout) = deadline(60_000);
        let name = "ISOLATE_UNIT_JOINED";
        let outer = take(State::Env, Access::Write, "outer", until, timeout).unwrap();
        std::env::set_var(name, "outer");
        let reader = take(State::Env, Access::Read, "reader", until, timeout).unwrap();
        let inner = take(State::Env, Access::Write, "inner", until, timeout).unwrap();
        std::env::set_var(name, "inner");
        drop(inner);
        assert_eq!(std::env::var(name).as_deref(), Ok("outer"));
        // The outer writer ends before a helper it started (an async test's may): the gate
        // stays held until the helper ends too.
        drop(outer);
        assert_eq!(std::env::var_os(name), None);
        let elsewhere = |ms| {
            std::thread::spawn(move || {
                let (until, timeout) = deadline(ms);
                take(State::Env, Access::Write, "elsewhere", until, timeout).map(drop)
            })
            .join()
            .unwrap()
        };
        let error = elsewhere(100).unwrap_err();
        assert!(error.to_string().contains("held by `outer`"), "{error}");
        drop(reader);
        elsewhere(60_000).unwrap();
    }

    /// Writers that joined may end in any order (an async helper can outlive its test): what
    /// each changed is put back as if they had ended last first, so nothing leaks.
    #[test]
    fn writers_that_end_out_of_order_put_back_last_first() {
        let (until, timeout) = deadline(60_000);
        let name = "ISOLATE_UNIT_UNWOUND";
        let outer = take(State::Env, Access::Write, "outer", until, timeout).unwrap();
        std::env::set_var(name, "outer");
        let first = take(State::Env, Access::Write, "first", until, timeout).unwrap();
        std::env::set_var(name, "first");
        let second = take(State::Env, Access::Write, "second", until, timeout).unwrap();
        std::env::set_var(name, "second");
        drop(outer);
        assert_eq!(
            std::env::var(name).as_deref(),
            Ok("second"),
            "put back too early"
        );
        drop(first);
        assert_eq!(
            std::env::var(name).as_deref(),
            Ok("second"),
            "put back too early"
        );
        drop(second);
        assert_eq!(std::env::var_os(name), None, "a writer's variable leaked");
    }

    #[test]
    fn bytes_compare_like_eq() {
        let base: Vec<u8> = (1..=40).collect();
        let copy = base.clone();
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(same_bytes(a, &copy[..len]), "{len}");
            assert!(!same_bytes(a, &base[..=len]), "{len}");
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 0x80;
                assert!(!same_bytes(a, &b), "{len} {at}");
            }
        }
    }

    #[test]
    fn names_that_would_panic_std_are_errors() {
        assert!(!settable(OsStr::new("")));
        assert!(!settable(OsStr::new("A=B")));
        assert!(settable(OsStr::new("A_B")));
    }
}
