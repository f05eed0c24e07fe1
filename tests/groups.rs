//! Serial and shared groups: overlap checks from threads and from child processes re-running
//! this binary, fairness, deadlock freedom, crash release and the timeout message.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use isolate::{isolated, Spec};
use support::{Log, ROLE};

fn in_threads(count: usize, body: impl Fn(usize) + Send + Sync + 'static) {
    let body = Arc::new(body);
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let body = Arc::clone(&body);
            thread::spawn(move || body(i))
        })
        .collect();
    for handle in handles {
        handle.join().expect("member thread panicked");
    }
}

/// Runs `test` of this binary as a child locking in a fresh isolate directory: for tests whose
/// members must meet only each other, never another run's members of the same group.
fn in_private_root(test: &str) {
    let root = support::private_root();
    let mut command = support::child(test, "run");
    command.env(isolate::env::DIR, root.path());
    support::run(&mut command, true);
}

#[test]
fn exclusive_members_never_overlap_in_threads() {
    static SPEC: Spec = Spec::new("groups::threads").serial(&["it-groups-threads"]);
    let dir = tempfile::tempdir().unwrap();
    let log = Log::new(dir.path());
    let shared_log = log.clone();
    in_threads(16, move |_| {
        for _ in 0..5 {
            let _guard = isolate::enter(&SPEC);
            support::stay(&shared_log, &support::me(), "serial", 1, || {
                support::work(200);
            });
        }
    });
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 80);
    support::assert_exclusive_alone(&intervals);
}

#[test]
#[ignore = "child process of shared_members_run_together_and_never_beside_an_exclusive_one"]
fn shared_and_exclusive_members_in_threads() {
    static SHARED: Spec = Spec::new("groups::shared").shared(&["it-groups-mixed"]);
    static SERIAL: Spec = Spec::new("groups::serial").serial(&["it-groups-mixed"]);
    let dir = tempfile::tempdir().unwrap();
    let log = Log::new(dir.path());

    // Four shared members meet at a barrier *inside* the group: possible only together.
    let barrier = Arc::new(Barrier::new(4));
    let (l, b) = (log.clone(), Arc::clone(&barrier));
    in_threads(4, move |_| {
        let _guard = isolate::enter(&SHARED);
        support::stay(&l, &support::me(), "shared", 1, || {
            b.wait();
        });
    });
    assert_eq!(support::overlapping_pairs(&support::intervals(&log)), 6);

    // Mixed: exclusive members are alone, whatever the shared ones do.
    let mixed = Log::new(tempfile::tempdir().unwrap().keep().as_path());
    let m = mixed.clone();
    in_threads(12, move |i| {
        for _ in 0..4 {
            let (spec, mode) = if i % 3 == 0 {
                (&SERIAL, "serial")
            } else {
                (&SHARED, "shared")
            };
            let _guard = isolate::enter(spec);
            support::stay(&m, &support::me(), mode, 1, || support::work(150));
        }
    });
    let intervals = support::intervals(&mixed);
    assert_eq!(intervals.len(), 48);
    support::assert_exclusive_alone(&intervals);
    let _ = std::fs::remove_dir_all(mixed.path.parent().unwrap());
}

/// In a private lock directory: the four shared members that meet inside the group wait for
/// each other there, and in a group shared with the machine, an exclusive member of another
/// run queued at the gate keeps the last of them out (as it must) until its own wait times
/// out, minutes later. Three copies of this binary at once all hung so.
#[test]
fn shared_members_run_together_and_never_beside_an_exclusive_one() {
    in_private_root("shared_and_exclusive_members_in_threads");
}

#[test]
fn groups_named_in_any_order_cannot_deadlock() {
    static AB: Spec = Spec::new("ab")
        .serial(&["it-dl-a", "it-dl-b"])
        .timeout(Duration::from_secs(30));
    static BA: Spec = Spec::new("ba")
        .serial(&["it-dl-b", "it-dl-a"])
        .timeout(Duration::from_secs(30));
    static B_SHARED_A: Spec = Spec::new("b-shared-a")
        .serial(&["it-dl-a"])
        .shared(&["it-dl-b"])
        .timeout(Duration::from_secs(30));
    let done = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&done);
    in_threads(9, move |i| {
        let spec = [&AB, &BA, &B_SHARED_A][i % 3];
        for _ in 0..20 {
            // A deadlock would surface as a timeout error here, not as a hang.
            let _guard = isolate::try_enter(spec).expect("groups taken in sorted order");
            thread::yield_now();
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 180);
}

/// A stream of shared members keeps the group busy the whole time; an exclusive member that
/// arrives must still get in, overtaken only by the shared members already past the gate.
#[test]
fn a_waiting_exclusive_member_is_not_starved_by_shared_ones() {
    static SHARED: Spec = Spec::new("fair::shared").shared(&["it-fair"]);
    static SERIAL: Spec = Spec::new("fair::serial")
        .serial(&["it-fair"])
        .timeout(Duration::from_secs(20));
    const READERS: usize = 4;
    let stop = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(std::sync::Mutex::new(Vec::<u128>::new()));
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (stop, entries) = (Arc::clone(&stop), Arc::clone(&entries));
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _guard = isolate::enter(&SHARED);
                    entries.lock().unwrap().push(support::now_ns());
                    support::work(300); // members overlap: the shared lock is never free
                }
            })
        })
        .collect();
    while entries.lock().unwrap().len() < 20 {
        thread::yield_now();
    }
    let requested = support::now_ns();
    let result = isolate::try_enter(&SERIAL);
    let entered = support::now_ns();
    stop.store(true, Ordering::SeqCst);
    let overtakers = entries
        .lock()
        .unwrap()
        .iter()
        .filter(|&&t| t > requested && t < entered)
        .count();
    drop(result);
    for reader in readers {
        reader.join().unwrap();
    }
    assert!(
        overtakers <= READERS,
        "{overtakers} shared members entered while the exclusive one waited"
    );
}

// Child-process members: each is a real `#[isolated]` test, run only by the parents below.

fn member(mode: &str) {
    let log = Log::from_env();
    support::stay(&log, &support::me(), mode, 1, || {
        match std::env::var(ROLE).as_deref() {
            // Shared members meet inside: only possible if they are all in at once.
            Ok("meet") => log.wait_for("enter", 4, Duration::from_secs(30)),
            _ => support::work(2_000),
        }
    });
}

#[test]
#[ignore = "child process of the tests below"]
#[isolated(serial = "processes")]
fn serial_member() {
    member("serial");
}

#[test]
#[ignore = "child process of the tests below"]
#[isolated(shared = "processes")]
fn shared_member() {
    member("shared");
}

fn members(root: &std::path::Path, log: &Log, tests: &[(&str, usize)], role: &str) {
    let mut commands = Vec::new();
    for &(test, count) in tests {
        for _ in 0..count {
            let command = support::child_in(test, role, root, log);
            commands.push(command);
        }
    }
    support::run_all(commands, true);
}

#[test]
fn exclusive_members_never_overlap_across_processes() {
    let root = support::private_root();
    let log = Log::new(root.path());
    members(root.path(), &log, &[("serial_member", 8)], "work");
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 8);
    support::assert_exclusive_alone(&intervals);
}

#[test]
fn shared_members_overlap_across_processes_and_never_with_exclusive_ones() {
    let root = support::private_root();
    let log = Log::new(root.path());
    members(root.path(), &log, &[("shared_member", 4)], "meet");
    assert_eq!(support::overlapping_pairs(&support::intervals(&log)), 6);

    let mixed = Log {
        path: root.path().join("mixed"),
    };
    members(
        root.path(),
        &mixed,
        &[("serial_member", 4), ("shared_member", 6)],
        "work",
    );
    let intervals = support::intervals(&mixed);
    assert_eq!(intervals.len(), 10);
    support::assert_exclusive_alone(&intervals);
}

#[test]
#[ignore = "child process of a_killed_holder_releases_the_group_at_once"]
#[isolated(serial = "crash")]
fn crash_member() {
    let log = Log::from_env();
    log.append(&format!("entered {}", std::process::id()));
    if std::env::var(ROLE).as_deref() == Ok("hold") {
        // Held until the parent kills us (bounded, in case it never does).
        thread::sleep(Duration::from_mins(1));
    }
}

#[test]
fn a_killed_holder_releases_the_group_at_once() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let mut holder = support::child_in("crash_member", "hold", root.path(), &log);
    let holder = support::KillOnDrop(holder.stdout(std::process::Stdio::null()).spawn().unwrap());
    let holder_pid = holder.0.id();
    log.wait_for("entered", 1, Duration::from_secs(30));

    // While it holds the group, a short wait times out and names the holder.
    let mut waiter = support::child_in("crash_member", "try", root.path(), &log);
    waiter.env(isolate::env::TIMEOUT, "300ms");
    let output = support::text(&support::run(&mut waiter, false));
    assert!(
        output.contains("timed out after 0.3s waiting for serial group `crash`"),
        "{output}"
    );
    assert!(
        output.contains(&format!("held by `crash_member` (pid {holder_pid}, for ")),
        "{output}"
    );
    // The wait in force is the variable's: the attribute's `timeout` would do nothing.
    assert!(
        output.contains(
            "if the holder is legitimately slow, the wait is `ISOLATE_TIMEOUT=300ms` (set in the \
             environment); raise it"
        ) && !output.contains("`timeout = \"...\"`"),
        "{output}"
    );

    // SIGKILL: the kernel drops the holder's lock, and the next waiter gets in.
    drop(holder);
    next_member_gets_in(root.path(), &log, 2);
}

/// Runs one more `crash_member`, which must get in: the `entered`-th entry of the log.
fn next_member_gets_in(root: &std::path::Path, log: &Log, entered: usize) {
    let mut next = support::child("crash_member", "try");
    next.env(isolate::env::DIR, root)
        .env(support::LOG, &log.path)
        .env(isolate::env::TIMEOUT, "20s");
    support::run(&mut next, true);
    assert_eq!(
        log.lines()
            .iter()
            .filter(|l| l.starts_with("entered"))
            .count(),
        entered
    );
}

#[test]
fn a_killed_member_that_waited_releases_the_gate_at_once_too() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let hold = || {
        let mut holder = support::child_in("crash_member", "hold", root.path(), &log);
        support::KillOnDrop(holder.stdout(std::process::Stdio::null()).spawn().unwrap())
    };
    let first = hold();
    log.wait_for("entered", 1, Duration::from_secs(30));
    // The second waits holding the group's gate, and keeps it once in (an exclusive member
    // hands it to the next entrant when it leaves).
    let second = hold();
    let gate_taken = || {
        std::fs::File::open(root.path().join("locks/group-crash.gate"))
            .is_ok_and(|gate| matches!(gate.try_lock(), Err(std::fs::TryLockError::WouldBlock)))
    };
    assert!(
        support::within(Duration::from_secs(30), gate_taken),
        "the second member waits at the gate"
    );
    drop(first);
    log.wait_for("entered", 2, Duration::from_secs(30));

    // SIGKILL while it holds both locks: the kernel drops both, and the next waiter gets in.
    drop(second);
    next_member_gets_in(root.path(), &log, 3);
}

#[test]
fn a_panicking_member_does_not_poison_the_group() {
    static SPEC: Spec = Spec::new("poison")
        .serial(&["it-poison"])
        .timeout(Duration::from_secs(20));
    let panicked = thread::spawn(|| {
        let _guard = isolate::enter(&SPEC);
        panic!("the test body fails");
    })
    .join();
    assert!(panicked.is_err());
    assert!(isolate::try_enter(&SPEC).is_ok());
}

/// Shared members that left must not be named: only the one inside is.
#[test]
#[ignore = "child process of a_timeout_names_exactly_the_current_holders"]
fn names_exactly_the_current_holders() {
    static DEPARTED: Spec = Spec::new("groups::departed").shared(&["it-current-holders"]);
    static PRESENT: Spec = Spec::new("groups::present").shared(&["it-current-holders"]);
    static WAITER: Spec = Spec::new("groups::waiter")
        .serial(&["it-current-holders"])
        .timeout(Duration::from_millis(200));
    for _ in 0..3 {
        drop(isolate::try_enter(&DEPARTED).unwrap());
    }
    let present = isolate::try_enter(&PRESENT).unwrap();
    let message = thread::spawn(|| isolate::try_enter(&WAITER).unwrap_err().to_string())
        .join()
        .unwrap();
    drop(present);
    assert!(
        message.contains("(held by `groups::present` (pid "),
        "{message}"
    );
    assert!(!message.contains("groups::departed"), "{message}");
}

/// In a private lock directory: the group is machine-wide, and a second run of this suite at
/// the same moment would have its own members inside it, rightly named by the timeout.
#[test]
fn a_timeout_names_exactly_the_current_holders() {
    in_private_root("names_exactly_the_current_holders");
}

/// A helper that joins the group its caller already holds fails at once, saying why,
/// instead of waiting for itself until the timeout.
#[test]
fn re_entering_a_held_group_fails_at_once() {
    static OUTER: Spec = Spec::new("groups::outer").serial(&["it-reenter"]);
    static INNER_SERIAL: Spec = Spec::new("groups::inner")
        .serial(&["it-reenter"])
        .timeout(Duration::from_secs(30));
    static INNER_SHARED: Spec = Spec::new("groups::inner")
        .shared(&["it-reenter"])
        .timeout(Duration::from_secs(30));
    let outer = isolate::try_enter(&OUTER).unwrap();
    for (inner, kind) in [(&INNER_SERIAL, "serial"), (&INNER_SHARED, "shared")] {
        let started = std::time::Instant::now();
        let error = isolate::try_enter(inner).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{error}");
        assert!(error.is_config(), "{error}");
        // The thread's membership is the outer test's: the helper is named as the one that
        // cannot join, not as a member.
        assert!(
            error.to_string().starts_with(&format!(
                "`groups::inner` cannot join group `it-reenter` as a {kind} member: its thread is \
                 already a serial member (the test or helper that called it), so it would wait \
                 for itself"
            )),
            "{error}"
        );
    }
    drop(outer);
    // Released: the same thread joins again.
    drop(isolate::try_enter(&INNER_SERIAL).unwrap());
}

/// A name built by hand that the attribute would refuse is a configuration error, not an I/O
/// error from a file name grown too long by percent-encoding.
#[test]
fn a_hand_built_group_name_is_checked_by_the_attribute_rule() {
    static LONG: Spec = Spec::new("groups::long_name")
        .serial(&[":::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::::"]);
    static SPACED: Spec = Spec::new("groups::spaced_name").shared(&["a b"]);
    let error = isolate::try_enter(&LONG).unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("invalid group name `::::::::::"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .ends_with("use 1 to 64 ASCII letters, digits, `_`, `-`, `.`, `:` or `/`"),
        "{error}"
    );
    let error = isolate::try_enter(&SPACED).unwrap_err();
    assert!(error.is_config(), "{error}");
    assert!(
        error.to_string().starts_with("invalid group name `a b`"),
        "{error}"
    );
}

#[test]
#[ignore = "child process of timed_out_waits_leave_no_thread_or_descriptor"]
fn stuck_waiters() {
    static HOLD: Spec = Spec::new("groups::stuck_holder").serial(&["stuck"]);
    static WAIT: Spec = Spec::new("groups::stuck_waiter")
        .serial(&["stuck"])
        .shared(&["stuck-shared"])
        .timeout(Duration::from_millis(20));
    let count = |dir: &str| std::fs::read_dir(dir).unwrap().count();
    let held = isolate::try_enter(&HOLD).unwrap();
    let (threads, fds) = (count("/proc/self/task"), count("/proc/self/fd"));
    let waiter = thread::spawn(|| {
        for _ in 0..20 {
            assert!(isolate::try_enter(&WAIT).unwrap_err().is_timeout());
        }
    });
    waiter.join().unwrap();
    assert_eq!(count("/proc/self/task"), threads, "threads left behind");
    assert_eq!(count("/proc/self/fd"), fds, "descriptors left behind");
    drop(held);
}

#[cfg(target_os = "linux")]
#[test]
fn timed_out_waits_leave_no_thread_or_descriptor() {
    in_private_root("stuck_waiters");
}
