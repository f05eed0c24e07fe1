//! Named groups: exclusive (`serial`) and shared (`shared`) members, across threads and
//! processes, released by the kernel when a holder dies.
//!
//! Each group has two lock files. The *main* file is locked exclusively by a `serial` member
//! and shared by `shared` members. The *gate* file is taken exclusively by every entrant that
//! finds the group busy while it acquires the main lock; a shared member releases it once it
//! holds the main lock, an exclusive one right after the main lock when it leaves. So a waiting
//! exclusive member, which holds the gate, stops new shared members from slipping past it: it
//! waits only for the shared members already inside, and then the group alternates between
//! waiters instead of letting a stream of shared members starve it. And the next exclusive
//! member queues on the gate, where the leaving one hands it over with one wake-up.
//!
//! Both files are taken through [`wait::Lock`](crate::wait::Lock): one open file per process,
//! with the process's waiters queued in memory in front of it. So a member hands the group to
//! the next member of its own process directly, shared members of one process share one
//! kernel lock, and only one thread per process waits in the kernel. A shared member rejoining
//! a group its thread is already in joins at once, past the local queue.
//!
//! Who holds a group is published as one [`holder`] record per member, emptied on release, so a
//! timeout names exactly the members inside. A test that joins a group its own thread already
//! holds exclusively (a helper with `serial = "g"` called from a `serial = "g"` test) would
//! wait for itself: that is refused at once.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::holder::{self, Claim, Holder, Record};
use crate::wait::{Lock, Mode, Wait};
use crate::{lockdir, Error};

/// Membership of one group, held until dropped.
#[derive(Debug)]
pub(crate) struct GroupLock {
    /// `None` only once dropped.
    main: Option<Lock>,
    /// Kept by an exclusive member that waited, to hand to the next entrant queued there.
    gate: Option<Lock>,
    _record: Record,
    _membership: Membership,
}

impl Drop for GroupLock {
    fn drop(&mut self) {
        // The locks go first, so the next member need not wait for the rest: the main lock,
        // then the gate. When the gate's next holder is a thread of this process, it goes
        // straight for the main lock, which this process keeps holding in the kernel until
        // then: no system call on either side. (Another process's next holder finds the main
        // lock free.)
        if self.gate.as_ref().is_some_and(Lock::has_waiters) {
            let main = self.main.take().map(Lock::linger);
            self.gate = None;
            drop(main);
        } else {
            self.main = None;
            self.gate = None;
        }
    }
}

/// The groups each thread holds, to refuse a join that would wait for its own thread.
static MEMBERSHIPS: Mutex<Vec<(ThreadId, &'static str, Mode)>> = Mutex::new(Vec::new());

/// This thread's membership of a group, struck from [`MEMBERSHIPS`] when dropped.
#[derive(Debug)]
struct Membership {
    thread: ThreadId,
    name: &'static str,
}

impl Membership {
    /// The mode this thread already holds `name` in, if it does.
    fn held(name: &str) -> Option<Mode> {
        let thread = std::thread::current().id();
        let memberships = MEMBERSHIPS.lock().unwrap_or_else(PoisonError::into_inner);
        let mut held = memberships
            .iter()
            .filter(|(t, n, _)| *t == thread && *n == name);
        // Exclusive if any membership is: that is the one others wait for.
        held.clone()
            .find(|(_, _, mode)| *mode == Mode::Exclusive)
            .or_else(|| held.next())
            .map(|(_, _, mode)| *mode)
    }

    fn enter(name: &'static str, mode: Mode) -> Membership {
        let thread = std::thread::current().id();
        MEMBERSHIPS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((thread, name, mode));
        Membership { thread, name }
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        let mut memberships = MEMBERSHIPS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = memberships
            .iter()
            .rposition(|(t, n, _)| *t == self.thread && *n == self.name)
        {
            memberships.remove(i);
        }
    }
}

/// The file name of a group: the name's `:` and `/` are percent-encoded, so no name can reach
/// outside the lock directory.
fn file_stem(name: &str) -> String {
    let mut stem = String::from("group-");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || byte == b'.' {
            stem.push(char::from(byte));
        } else {
            let _ = write!(stem, "%{byte:02X}");
        }
    }
    stem
}

/// A group's lock files: the main one and the gate.
#[derive(Debug)]
struct Files {
    main: PathBuf,
    gate: PathBuf,
}

/// The files of `name`, once its name is checked; worked out once per name and process, as
/// group names are few and a test's entry should not format paths.
fn files(name: &'static str) -> Result<Arc<Files>, Error> {
    static FILES: OnceLock<Mutex<HashMap<&'static str, Arc<Files>>>> = OnceLock::new();
    let cache = FILES.get_or_init(Mutex::default);
    if let Some(files) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
    {
        return Ok(Arc::clone(files));
    }
    isolate_rules::check_group_name(name).map_err(|e| Error::config(e.to_string()))?;
    let dir = lockdir::subdir("locks")?;
    let stem = file_stem(name);
    let files = Arc::new(Files {
        main: dir.join(format!("{stem}.lock")),
        gate: dir.join(format!("{stem}.gate")),
    });
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(name, Arc::clone(&files));
    Ok(files)
}

fn kind(mode: Mode) -> &'static str {
    match mode {
        Mode::Exclusive => "serial",
        Mode::Shared => "shared",
    }
}

/// Joins `name` in `mode`, waiting until `deadline`.
pub(crate) fn join(
    name: &'static str,
    mode: Mode,
    test: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<GroupLock, Error> {
    let files = files(name)?;
    let held = Membership::held(name);
    if held.is_some_and(|held| held == Mode::Exclusive || mode == Mode::Exclusive) {
        // The membership is the caller's (the test or helper that called `test`): `test` is
        // only the one asking.
        return Err(Error::config(format!(
            "`{test}` cannot join group `{name}` as a {} member: its thread is already a {} member \
             (the test or helper that called it), so it would wait for itself until the timeout; \
             join the group once, in the outermost test or helper",
            kind(mode),
            kind(held.unwrap_or(mode)),
        )));
    }
    let (main_path, gate_path) = (&files.main, &files.gate);
    // An exclusive entrant that finds the group free needs no gate: the gate only keeps shared
    // newcomers from slipping past a waiting exclusive member, and this one is not waiting.
    // But while a thread of this process holds or queues for the gate, the group passes
    // through it: a newcomer taking the main lock in between would jump that queue, and
    // escape the bound on how long a process keeps the group from the others.
    // Nor does a shared member that this thread already is: it must not queue behind a waiting
    // exclusive member that waits for this very thread.
    let fast = match mode {
        Mode::Exclusive if !Lock::in_use_here(gate_path) => {
            Lock::take(main_path, mode, Wait::Never)?
        }
        _ => None,
    };
    let mut gate = None;
    let main = match fast {
        Some(main) => Some(main),
        None if held.is_some() => Lock::take(main_path, mode, Wait::Rejoin(deadline))?,
        None => {
            gate = Lock::take(gate_path, Mode::Exclusive, Wait::Until(deadline))?;
            match &gate {
                Some(gate) => through_gate(gate, main_path, mode, deadline)?,
                None => None,
            }
        }
    };
    let Some(main) = main else {
        if let Some(gate) = gate {
            gate.release_after_timeout();
        }
        return Err(timeout_error(name, mode, timeout));
    };
    let claim = match mode {
        Mode::Exclusive => Claim::Serial(name.to_owned()),
        Mode::Shared => Claim::Shared(name.to_owned()),
    };
    let record = holder::publish("holders", &Holder::me(test, claim))?;
    let membership = Membership::enter(name, mode);
    // A shared member lets the gate go once in, so that others join it; an exclusive one keeps
    // it to its release, when it hands it to the next entrant queued there (one wake-up, where
    // letting it go now would wake that entrant only to queue again on the main lock, and
    // compete with this member's entry for the CPU).
    if mode == Mode::Shared {
        gate = None;
    }
    Ok(GroupLock {
        main: Some(main),
        gate,
        _record: record,
        _membership: membership,
    })
}

/// How often a member waiting at the gate checks that the gate file still has a name.
const GATE_CHECK: Duration = Duration::from_millis(100);

/// Takes the main lock holding `gate`. A gate file removed meanwhile (a temp cleaner, `rm
/// -rf`) holds back nobody who opens its path since, and a stream of shared newcomers through
/// the new gate would starve this member: so every [`GATE_CHECK`] of the wait the gate moves
/// onto the file now at its path, as soon as that is free, and they queue behind it again.
fn through_gate(
    gate: &Lock,
    main_path: &std::path::Path,
    mode: Mode,
    deadline: Instant,
) -> Result<Option<Lock>, Error> {
    // Most entries find the main lock free: they read no clock.
    if let Some(main) = Lock::take(main_path, mode, Wait::Never)? {
        return Ok(Some(main));
    }
    loop {
        let until = deadline.min(Instant::now() + GATE_CHECK);
        let main = Lock::take(main_path, mode, Wait::Until(until))?;
        if main.is_some() || until >= deadline {
            return Ok(main);
        }
        gate.follow()?;
    }
}

fn timeout_error(name: &str, mode: Mode, timeout: Duration) -> Error {
    let holders: Vec<Holder> = holder::scan("holders")
        .into_iter()
        .filter(|holder| holder.claim.group() == Some(name))
        .collect();
    Error::timeout(format!(
        "timed out after {:.1}s waiting for {} group `{name}` ({}); if the holder is legitimately slow, \
         {}",
        timeout.as_secs_f64(),
        kind(mode),
        holder::describe_all(&holders),
        crate::env::raise_the_wait(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_directory() {
        assert_eq!(file_stem("ws"), "group-ws");
        assert_eq!(file_stem("db/users:v2"), "group-db%2Fusers%3Av2");
        assert_eq!(file_stem("../../etc"), "group-..%2F..%2Fetc");
        assert!(!file_stem("a/b\0c").contains(['/', '\0']));
    }

    /// Whether another process could lock `path` now (another open file description stands
    /// in for it: flock locks conflict between descriptions, not processes).
    fn free_for_others(path: &std::path::Path) -> bool {
        let file = lockdir::lock_file(path).expect("open the lock file");
        crate::wait::try_lock(&file, Mode::Exclusive).expect("flock")
    }

    /// A group name of its own for one test (names are `'static`, as in a `Spec`).
    fn unique_group(prefix: &str) -> &'static str {
        Box::leak(format!("{prefix}-{}", lockdir::unique_name()).into_boxed_str())
    }

    /// Joins `name` as `test`, waiting `timeout` at most.
    fn join_within(
        name: &'static str,
        mode: Mode,
        test: &str,
        timeout: Duration,
    ) -> Result<GroupLock, Error> {
        join(name, mode, test, Instant::now() + timeout, timeout)
    }

    fn join_exclusive(name: &'static str) -> GroupLock {
        join_within(name, Mode::Exclusive, "t", Duration::from_secs(300)).expect("join")
    }

    #[test]
    fn an_exclusive_newcomer_does_not_jump_its_process_s_queue_at_the_gate() {
        let name = unique_group("no-barging");
        let gate_path = &files(name).expect("files").gate;
        // A thread of this process at the gate, about to go for the main lock, which is free.
        let gate = Lock::take(gate_path, Mode::Exclusive, Wait::Never)
            .expect("take the gate")
            .expect("the gate is free");
        let newcomer = join_within(name, Mode::Exclusive, "t", Duration::from_millis(50));
        assert!(newcomer.expect_err("queued at the gate").is_timeout());
        drop(gate);
        drop(join_exclusive(name));
    }

    /// A member waiting at the gate keeps shared newcomers out even after the gate file is
    /// removed (a temp cleaner): it moves its hold onto the new file at the gate's path, where
    /// they queue behind it, instead of being starved by a stream of them through the new gate.
    #[test]
    fn a_member_waiting_at_a_removed_gate_holds_the_new_one() {
        let name = unique_group("gate-removed");
        let files = files(name).expect("files");
        let (main_path, gate_path) = (files.main.clone(), files.gate.clone());
        // Another process's shared member inside.
        let inside = lockdir::lock_file(&main_path).expect("open");
        assert!(crate::wait::try_lock(&inside, Mode::Shared).expect("flock"));
        let waiter = std::thread::spawn(move || join_exclusive(name));
        while free_for_others(&gate_path) {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::fs::remove_file(&gate_path).expect("remove the gate");
        // A bound only so that a failure ends.
        let until = Instant::now() + Duration::from_secs(30);
        while free_for_others(&gate_path) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(
            !free_for_others(&gate_path),
            "a shared newcomer passes the new gate"
        );
        drop(inside);
        drop(waiter.join().expect("the waiter entered"));
    }

    /// Waits of 0 and 1 ms, serial and shared, for a group whose name is as long as names go
    /// and has every kind of character allowed: each times out naming the member inside, and
    /// leaves the group free once that member leaves.
    #[test]
    fn the_shortest_waits_at_the_longest_name_time_out_naming_the_holder() {
        let name: &'static str =
            Box::leak(format!("_-.:/{}{}", "aZ9".repeat(9), lockdir::unique_name()).into());
        assert_eq!(name.len(), isolate_rules::GROUP_NAME_MAX);
        let inside = join_within(
            name,
            Mode::Exclusive,
            "crate::inside",
            Duration::from_secs(300),
        )
        .expect("join");
        let waits = std::thread::spawn(move || {
            for mode in [Mode::Exclusive, Mode::Shared] {
                for timeout in [Duration::ZERO, Duration::from_millis(1)] {
                    let error = join_within(name, mode, "t", timeout).expect_err("held");
                    let message = error.to_string();
                    assert!(error.is_timeout(), "{message}");
                    assert!(message.contains(&format!("group `{name}`")), "{message}");
                    assert!(message.contains("held by `crate::inside`"), "{message}");
                }
            }
        });
        waits.join().expect("the waits");
        drop(inside);
        drop(join_exclusive(name));
    }

    #[test]
    fn an_exclusive_member_that_waited_keeps_the_gate_until_it_leaves() {
        let name = unique_group("gate-kept");
        let files = files(name).expect("files");
        let (main_path, gate_path) = (&files.main, &files.gate);
        let first = join_exclusive(name);
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (leave_tx, leave_rx) = std::sync::mpsc::channel::<()>();
        let second = std::thread::spawn({
            move || {
                let member = join_exclusive(name);
                entered_tx.send(()).expect("send");
                leave_rx.recv().expect("recv");
                drop(member);
            }
        });
        // The second member waits holding the gate (the first, which found the group free,
        // took none).
        while free_for_others(gate_path) {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(first);
        entered_rx.recv().expect("the second member entered");
        // So the next exclusive entrant queues on the gate, where this member hands it over.
        assert!(!free_for_others(gate_path), "the gate is kept while inside");
        assert!(!free_for_others(main_path));
        leave_tx.send(()).expect("send");
        second.join().expect("second member");
        assert!(free_for_others(gate_path), "and let go on leaving");
        assert!(free_for_others(main_path));
    }
}
