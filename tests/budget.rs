//! The machine-wide socket budget: never exceeded (checked from the holders' own records),
//! fair to large requests, freed when a holder is killed, and free for tests that ask nothing.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use isolate::{isolated, Spec};
use support::{Log, ROLE};

fn child(
    test: &str,
    role: &str,
    root: &std::path::Path,
    log: &Log,
    budget: u32,
) -> std::process::Command {
    let mut command = support::child_in(test, role, root, log);
    command.env(isolate::env::SOCKET_BUDGET, budget.to_string());
    command
}

/// [`child`] with a budget of 5, running in the background (killed when dropped).
fn spawn(test: &str, role: &str, root: &std::path::Path, log: &Log) -> support::KillOnDrop {
    let child = child(test, role, root, log, 5)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    support::KillOnDrop(child)
}

#[test]
#[ignore = "child process of budget_is_never_exceeded"]
#[isolated(max_sockets = 3)]
fn heavy_member() {
    let log = Log::from_env();
    support::stay(&log, &support::me(), "permits", 3, || support::work(3_000));
}

#[test]
#[ignore = "child process of budget_is_never_exceeded"]
fn heavy_threads() {
    static TWO: Spec = Spec::new("budget::two").max_sockets(2);
    let log = Log::from_env();
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let log = log.clone();
            thread::spawn(move || {
                for _ in 0..3 {
                    let _guard = isolate::enter(&TWO);
                    support::stay(&log, &support::me(), "permits", 2, || support::work(1_000));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

#[test]
fn budget_is_never_exceeded() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let mut commands: Vec<_> = (0..8)
        .map(|_| child("heavy_member", "work", root.path(), &log, 7))
        .collect();
    commands.extend((0..2).map(|_| child("heavy_threads", "work", root.path(), &log, 7)));
    support::run_all(commands, true);
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 8 + 2 * 18);
    let peak = support::peak_weight(&intervals);
    assert!(peak <= 7, "{peak} permits held at once with a budget of 7");
}

#[test]
fn a_request_larger_than_the_whole_budget_fails_at_once() {
    static GREEDY: Spec = Spec::new("budget::greedy").max_sockets(1 << 30);
    let budget = isolate::socket_budget().unwrap();
    let error = isolate::try_enter(&GREEDY).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "`max_sockets = 1073741824` asks for more than the whole socket budget of {budget} permits; \
             lower `max_sockets` or raise `ISOLATE_SOCKET_BUDGET`"
        )
    );
}

#[test]
#[ignore = "child process of a_killed_holder_frees_its_permits"]
#[isolated(max_sockets = 5)]
fn hoarder() {
    let log = Log::from_env();
    log.append("entered");
    if std::env::var(ROLE).as_deref() == Ok("hold") {
        thread::sleep(Duration::from_mins(1));
    }
}

#[test]
#[ignore = "child process of a_killed_holder_frees_its_permits"]
#[isolated(port, serial = "unrelated")]
fn asks_for_no_permits() {
    assert_ne!(port.port(), 0);
}

#[test]
#[ignore = "child process of a_timeout_names_a_holder_in_the_same_process"]
fn holds_then_waits_in_one_process() {
    static HOLD: Spec = Spec::new("budget::first_holder").max_sockets(5);
    static WAIT: Spec = Spec::new("budget::second_holder").max_sockets(1);
    let held = isolate::try_enter(&HOLD).unwrap();
    let message = isolate::try_enter(&WAIT).unwrap_err().to_string();
    assert!(
        message.contains("(5 of 5 in use, held by `budget::first_holder` (pid "),
        "{message}"
    );
    drop(held);
    // Released permits are free again at once, for this process and its record reused.
    for _ in 0..3 {
        drop(isolate::try_enter(&HOLD).unwrap());
    }
}

#[test]
fn a_timeout_names_a_holder_in_the_same_process() {
    let root = support::private_root();
    let log = Log::new(root.path());
    support::run(
        child(
            "holds_then_waits_in_one_process",
            "try",
            root.path(),
            &log,
            5,
        )
        .env(isolate::env::TIMEOUT, "300ms"),
        true,
    );
    let records = std::fs::read_dir(root.path().join("budget"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("h-")
        })
        .count();
    assert!(records <= 2, "{records} records for two holders at most");
}

#[test]
fn a_killed_holder_frees_its_permits() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let holder = spawn("hoarder", "hold", root.path(), &log);
    let pid = holder.0.id();
    log.wait_for("entered", 1, Duration::from_secs(30));

    let output = support::text(&support::run(
        child("hoarder", "try", root.path(), &log, 5).env(isolate::env::TIMEOUT, "300ms"),
        false,
    ));
    assert!(output.contains("timed out after 0.3s waiting for 5 permits of the socket budget (5 of 5 in use, held by `hoarder` (pid "), "{output}");
    assert!(output.contains(&format!("(pid {pid}, for ")), "{output}");
    assert!(
        output.contains(
            "the wait is `ISOLATE_TIMEOUT=300ms` (set in the environment); raise it, or the \
             budget with `ISOLATE_SOCKET_BUDGET`"
        ),
        "{output}"
    );

    // A test that asks for no permits is not held up by an exhausted budget.
    support::run(
        child("asks_for_no_permits", "try", root.path(), &log, 5)
            .env(isolate::env::TIMEOUT, "300ms"),
        true,
    );

    drop(holder);
    support::run(
        child("hoarder", "try", root.path(), &log, 5).env(isolate::env::TIMEOUT, "20s"),
        true,
    );
}

#[test]
#[ignore = "child process of a_large_request_is_not_starved_by_small_ones"]
fn large_behind_small() {
    static SMALL: Spec = Spec::new("budget::small").max_sockets(1);
    static LARGE: Spec = Spec::new("budget::large")
        .max_sockets(4)
        .timeout(Duration::from_secs(20));
    let stop = Arc::new(AtomicBool::new(false));
    let entries = Arc::new(Mutex::new(0usize));
    let small: Vec<_> = (0..3)
        .map(|_| {
            let (stop, entries) = (Arc::clone(&stop), Arc::clone(&entries));
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _guard = isolate::enter(&SMALL);
                    *entries.lock().unwrap() += 1;
                    support::work(500); // small holders overlap: the budget is never fully free
                }
            })
        })
        .collect();
    while *entries.lock().unwrap() < 20 {
        thread::yield_now();
    }
    // Release at once: the small threads cannot finish while the large one holds everything.
    let large = isolate::try_enter(&LARGE).map(drop);
    stop.store(true, Ordering::SeqCst);
    for thread in small {
        thread.join().unwrap();
    }
    large.expect("the large request gets all 4 permits despite the stream of small ones");
}

#[test]
fn a_large_request_is_not_starved_by_small_ones() {
    let root = support::private_root();
    let log = Log::new(root.path());
    support::run(
        &mut child("large_behind_small", "run", root.path(), &log, 4),
        true,
    );
}

#[test]
#[ignore = "child process of permits_taken_after_a_count_are_counted"]
fn counts_then_waits() {
    static ALL: Spec = Spec::new("budget::counter").max_sockets(5);
    static BRIEFLY: Spec = Spec::new("budget::counter")
        .max_sockets(5)
        .timeout(Duration::from_millis(300));
    let log = Log::from_env();
    let role = std::env::var(ROLE).unwrap();
    if role.starts_with("count") {
        // Counts the other processes' permits (none), remembering the count.
        drop(isolate::try_enter(&ALL).unwrap());
        log.append("counted");
        log.wait_for("held", 1, Duration::from_secs(30));
        if role == "count-later" {
            // Longer than a count is trusted (a second).
            thread::sleep(Duration::from_millis(1_100));
        }
        let message = isolate::try_enter(&BRIEFLY).unwrap_err().to_string();
        assert!(
            message.contains("(5 of 5 in use, held by `budget::counter` (pid "),
            "{message}"
        );
        log.append("refused");
        // The holder is killed: what this process counted of it is no longer true.
        log.wait_for("killed", 1, Duration::from_secs(30));
        drop(isolate::try_enter(&ALL).unwrap());
    } else {
        log.wait_for("counted", 1, Duration::from_secs(30));
        if role == "replace-then-hold" {
            // A temp cleaner: the counter keeps reading the file it opened.
            let dir = std::env::var_os(isolate::env::DIR).unwrap();
            std::fs::remove_file(std::path::Path::new(&dir).join("budget/generation")).unwrap();
        }
        let _held = isolate::try_enter(&ALL).unwrap();
        log.append("held");
        thread::sleep(Duration::from_mins(1));
    }
}

/// Runs `counts_then_waits` as a counter and a holder, killing the holder once the counter
/// was refused; the counter checks what it is told.
fn count_beside_a_holder(counter: &str, holder: &str) {
    let root = support::private_root();
    let log = Log::new(root.path());
    let holder = spawn("counts_then_waits", holder, root.path(), &log);
    let mut counter = spawn("counts_then_waits", counter, root.path(), &log);
    log.wait_for("refused", 1, Duration::from_secs(30));
    drop(holder);
    log.append("killed");
    assert!(counter.0.wait().unwrap().success());
}

/// A process remembers what it counted of the others' permits: permits another process took
/// since then are counted all the same, and permits freed since (a holder killed) are free.
#[test]
fn permits_taken_after_a_count_are_counted() {
    count_beside_a_holder("count", "hold");
}

/// The same when the file that tells processes a count is out of date was removed meanwhile
/// (a temp cleaner): the counter, still reading the removed file, counts again within a second.
#[test]
fn permits_taken_after_a_count_are_counted_when_the_generation_file_was_replaced() {
    count_beside_a_holder("count-later", "replace-then-hold");
}

#[test]
#[ignore = "child process of budget_holds_under_churn"]
fn churns() {
    churn(40);
}

/// Two threads entering `rounds` times each with the request the role names, 1 to 3 permits.
fn churn(rounds: usize) {
    static ONE: Spec = Spec::new("budget::one").max_sockets(1);
    static TWO: Spec = Spec::new("budget::two").max_sockets(2);
    static THREE: Spec = Spec::new("budget::three").max_sockets(3);
    let log = Log::from_env();
    let (spec, weight) = match std::env::var(ROLE).as_deref() {
        Ok("1") => (&ONE, 1),
        Ok("2") => (&TWO, 2),
        _ => (&THREE, 3),
    };
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let log = log.clone();
            thread::spawn(move || {
                for _ in 0..rounds {
                    let _guard = isolate::enter(spec);
                    support::stay(&log, &support::me(), "permits", weight, || {
                        support::work(100);
                    });
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

/// The size at which the runtime renews the generation file (a byte per count).
const RENEW_AT: u64 = 1 << 20;
/// How many counts short of its renewal [`near_renewal`] leaves the generation file: fewer
/// than the six processes of a churn, each of which counts at least once (on its first take),
/// so the file is renewed in every run, however the processes interleave.
const SHORT_OF_RENEWAL: u64 = 3;

/// A generation file at `root` a few counts short of its renewal.
fn near_renewal(root: &std::path::Path) -> std::path::PathBuf {
    let budget = root.join("budget");
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&budget)
        .unwrap();
    let generation = budget.join("generation");
    std::fs::File::create(&generation)
        .unwrap()
        .set_len(RENEW_AT - SHORT_OF_RENEWAL)
        .unwrap();
    generation
}

/// Processes with different requests entering and leaving quickly, most of them on a count
/// they remember: the permits held at once, as the holders record them, stay within budget.
/// Meanwhile the generation file reaches the size at which it is renewed (1 MiB, a byte per
/// count), so counts taken at the old file and the new one meet.
#[test]
fn budget_holds_under_churn() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let generation = near_renewal(root.path());
    let commands: Vec<_> = ["1", "2", "3", "1", "2", "3"]
        .into_iter()
        .map(|size| child("churns", size, root.path(), &log, 5))
        .collect();
    support::run_all(commands, true);
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 6 * 2 * 40);
    let peak = support::peak_weight(&intervals);
    assert!(peak <= 5, "{peak} permits held at once with a budget of 5");
    // Renewed: the file started again from nothing. Its size now is the counts since, which
    // can exceed the entries (a take whose generation moved meanwhile counts again).
    let size = std::fs::metadata(&generation).unwrap().len();
    assert!(
        size < RENEW_AT - SHORT_OF_RENEWAL,
        "not renewed: {size} bytes"
    );
}

#[test]
#[ignore = "child process of a_removed_file_never_hides_permits"]
fn holds_beside_a_cleaner() {
    static THREE: Spec = Spec::new("budget::three")
        .max_sockets(3)
        .timeout(Duration::from_millis(300));
    let log = Log::from_env();
    let budget =
        std::path::PathBuf::from(std::env::var_os(isolate::env::DIR).unwrap()).join("budget");
    let role = std::env::var(ROLE).unwrap();
    let remove = |prefix: &str| {
        for entry in std::fs::read_dir(&budget).unwrap() {
            let entry = entry.unwrap();
            if entry.file_name().to_string_lossy().starts_with(prefix) {
                std::fs::remove_file(entry.path()).unwrap();
            }
        }
    };
    match role.as_str() {
        "record-removed" => {
            // A temp cleaner removes the record this process keeps for its next holder.
            drop(isolate::try_enter(&THREE).unwrap());
            remove(&format!("h-{}-", std::process::id()));
            let _held = isolate::try_enter(&THREE).unwrap();
            log.append("held");
            thread::sleep(Duration::from_mins(1));
        }
        "generation-removed" => {
            // Counted just now; then a temp cleaner removes the generation file, and another
            // process takes permits, telling only the new one.
            drop(isolate::try_enter(&THREE).unwrap());
            remove("generation");
            log.append("counted");
            log.wait_for("held", 1, Duration::from_secs(30));
            let refused = isolate::try_enter(&THREE).unwrap_err().to_string();
            assert!(refused.contains("(3 of 5 in use"), "{refused}");
        }
        "hold" => {
            log.wait_for("counted", 1, Duration::from_secs(30));
            let _held = isolate::try_enter(&THREE).unwrap();
            log.append("held");
            thread::sleep(Duration::from_mins(1));
        }
        _ => {
            log.wait_for("held", 1, Duration::from_secs(30));
            let refused = isolate::try_enter(&THREE).unwrap_err().to_string();
            assert!(refused.contains("(3 of 5 in use"), "{refused}");
        }
    }
}

/// A record or the generation file removed (a temp cleaner) while a process keeps it open
/// never makes the permits it stands for free to another process.
#[test]
fn a_removed_file_never_hides_permits() {
    for (holder, checker) in [("record-removed", "check"), ("hold", "generation-removed")] {
        let root = support::private_root();
        let log = Log::new(root.path());
        let _holder = spawn("holds_beside_a_cleaner", holder, root.path(), &log);
        support::run(
            &mut child("holds_beside_a_cleaner", checker, root.path(), &log, 5),
            true,
        );
    }
}

#[test]
#[ignore = "child process of a_count_short_of_descriptors_takes_nothing"]
fn counts_short_of_descriptors() {
    static ALL: Spec = Spec::new("budget::short_of_descriptors")
        .max_sockets(5)
        .timeout(Duration::from_millis(300));
    let log = Log::from_env();
    if std::env::var(ROLE).as_deref() == Ok("hold") {
        log.wait_for("counted", 1, Duration::from_secs(30));
        let _held = isolate::try_enter(&ALL).unwrap();
        log.append("held");
        thread::sleep(Duration::from_mins(1));
        return;
    }
    drop(isolate::try_enter(&ALL).unwrap());
    log.append("counted");
    log.wait_for("held", 1, Duration::from_secs(30));
    // Every descriptor the process may open but one: enough to open the gate again or list
    // `budget/`, not to read the holder's record besides.
    let mut open = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        open.push(file);
    }
    drop(open.pop());
    let entered = isolate::try_enter(&ALL).map(drop);
    drop(open);
    let error = entered
        .expect_err("5 permits taken beside a holder of all 5")
        .to_string();
    assert!(error.contains("budget"), "{error}");
}

/// A process that cannot read every record (here: out of file descriptors, as a test holding
/// many sockets may be) does not count the permits it could not read as free.
#[test]
fn a_count_short_of_descriptors_takes_nothing() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let _holder = spawn("counts_short_of_descriptors", "hold", root.path(), &log);
    // A low limit on open files, so that the child fills it quickly.
    let counter = child("counts_short_of_descriptors", "count", root.path(), &log, 5);
    support::run(&mut limited(&counter, "ulimit -n 64"), true);
}

/// `command` run by `sh` under `limits` (`ulimit` commands), with SIGXFSZ ignored: a write
/// past a file size limit fails instead of killing the process.
fn limited(command: &std::process::Command, limits: &str) -> std::process::Command {
    let mut limited = std::process::Command::new("sh");
    limited
        .args([
            "-c",
            &format!("trap '' XFSZ && {limits} && exec \"$0\" \"$@\""),
        ])
        .arg(command.get_program())
        .args(command.get_args())
        .envs(
            command
                .get_envs()
                .filter_map(|(key, value)| Some((key, value?))),
        );
    limited
}

/// A test name whose record is longer than a file size limit of one block (512 bytes for
/// dash's `ulimit -f`, 1024 for bash's).
const LONG_NAME: &str = concat!(
    "budget::",
    "a_holder_whose_record_cannot_be_written_whole_0001_",
    "a_holder_whose_record_cannot_be_written_whole_0002_",
    "a_holder_whose_record_cannot_be_written_whole_0003_",
    "a_holder_whose_record_cannot_be_written_whole_0004_",
    "a_holder_whose_record_cannot_be_written_whole_0005_",
    "a_holder_whose_record_cannot_be_written_whole_0006_",
    "a_holder_whose_record_cannot_be_written_whole_0007_",
    "a_holder_whose_record_cannot_be_written_whole_0008_",
    "a_holder_whose_record_cannot_be_written_whole_0009_",
    "a_holder_whose_record_cannot_be_written_whole_0010_",
    "a_holder_whose_record_cannot_be_written_whole_0011_",
    "a_holder_whose_record_cannot_be_written_whole_0012_",
    "a_holder_whose_record_cannot_be_written_whole_0013_",
    "a_holder_whose_record_cannot_be_written_whole_0014_",
    "a_holder_whose_record_cannot_be_written_whole_0015_",
    "a_holder_whose_record_cannot_be_written_whole_0016_",
    "a_holder_whose_record_cannot_be_written_whole_0017_",
    "a_holder_whose_record_cannot_be_written_whole_0018_",
    "a_holder_whose_record_cannot_be_written_whole_0019_",
    "a_holder_whose_record_cannot_be_written_whole_0020_",
    "a_holder_whose_record_cannot_be_written_whole_0021_",
    "a_holder_whose_record_cannot_be_written_whole_0022_",
);

#[test]
#[ignore = "child process of a_holder_whose_record_cannot_be_written_takes_nothing"]
fn holds_without_a_whole_record() {
    static LONG: Spec = Spec::new(LONG_NAME)
        .max_sockets(3)
        .timeout(Duration::from_millis(300));
    let log = Log::from_env();
    if std::env::var(ROLE).as_deref() == Ok("hold") {
        match isolate::try_enter(&LONG) {
            Ok(_held) => {
                log.append("held");
                thread::sleep(Duration::from_mins(1));
            }
            Err(error) => {
                assert!(error.to_string().contains("record"), "{error}");
                log.append("refused");
            }
        }
        return;
    }
    let entered = isolate::try_enter(&LONG).map(drop);
    entered.expect_err("3 permits taken beside a holder of 3 of 5");
}

/// A holder whose record cannot be written whole (here: a file size limit; a full disk does
/// the same to a new record) does not hold permits that no count sees: it fails instead.
#[test]
fn a_holder_whose_record_cannot_be_written_takes_nothing() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let holder = child("holds_without_a_whole_record", "hold", root.path(), &log, 5);
    let holder = limited(&holder, "ulimit -f 1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _holder = support::KillOnDrop(holder);
    let ended = |line: &String| line == "held" || line == "refused";
    assert!(support::within(Duration::from_secs(30), || log
        .lines()
        .iter()
        .any(ended)));
    if log.lines().iter().any(|line| line == "held") {
        support::run(
            &mut child(
                "holds_without_a_whole_record",
                "check",
                root.path(),
                &log,
                5,
            ),
            true,
        );
    }
}

/// The overlap checks above pair each enter of a thread with its own exit, not its first: a
/// thread that enters again and overlaps another holder is counted as holding.
#[test]
fn a_thread_entering_again_is_paired_with_its_own_exit() {
    let root = support::private_root();
    let log = Log::new(root.path());
    for line in [
        "enter 1 a permits 3",
        "exit 2 a permits 3",
        "enter 3 a permits 3",
        "enter 4 b permits 3",
        "exit 5 b permits 3",
        "exit 6 a permits 3",
    ] {
        log.append(line);
    }
    let intervals = support::intervals(&log);
    assert_eq!(support::peak_weight(&intervals), 6);
}

#[test]
#[ignore = "child process of budget_holds_while_holders_are_killed_and_files_removed"]
fn churns_until_killed() {
    churn(100_000);
}

/// Holders killed at any point (SIGKILL: between a count and its record, holding, counting),
/// and the budget's files removed by a temp cleaner or moved meanwhile (a process may then pass
/// a gate of its own, beside another's, or count at a file nobody else sees): the permits held at once, as
/// the holders record them, stay within budget. A killed holder's time ends when the kill is
/// sent (it held no longer as far as the check knows, and no less in truth).
#[test]
fn budget_holds_while_holders_are_killed_and_files_removed() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let generation = near_renewal(root.path());
    let roles = ["1", "2", "3", "1", "2", "3"];
    let spawn = |role: &str| {
        let child = child("churns_until_killed", role, root.path(), &log, 5)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        support::KillOnDrop(child)
    };
    let mut children: Vec<_> = roles.iter().map(|role| spawn(role)).collect();
    let kill = |child: &mut support::KillOnDrop| {
        let killed = support::now_ns();
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        // Its holders that never left, left now.
        let prefix = format!("{}-", child.0.id());
        let lines = log.lines();
        let mut open: Vec<(String, String)> = Vec::new();
        for line in &lines {
            let fields: Vec<&str> = line.split(' ').collect();
            if fields.len() == 5 && fields[2].starts_with(&prefix) {
                let held = (fields[2].to_owned(), fields[4].to_owned());
                match fields[0] {
                    "enter" => open.push(held),
                    _ => open.retain(|other| *other != held),
                }
            }
        }
        for (who, weight) in open {
            log.append(&format!("exit {killed} {who} permits {weight}"));
        }
    };
    // Each round waits for 5 more stays (however slow a loaded machine makes them), each of
    // which ends as an interval: more than 100 in all.
    let enters = || {
        log.lines()
            .iter()
            .filter(|l| l.starts_with("enter "))
            .count()
    };
    for round in 0..24 {
        let before = enters();
        assert!(
            support::within(Duration::from_secs(60), || enters() >= before + 5),
            "the holders stopped churning"
        );
        // Each of the budget's own files in turn, removed as a temp cleaner would, or the
        // generation file moved away.
        let _ = match ["generation", "gate", "gate.waiting", "moved"][round % 4] {
            "moved" => std::fs::rename(&generation, generation.with_file_name("moved")),
            removed => std::fs::remove_file(generation.with_file_name(removed)),
        };
        let i = round % roles.len();
        kill(&mut children[i]);
        children[i] = spawn(roles[i]);
    }
    thread::sleep(Duration::from_millis(30));
    for child in &mut children {
        kill(child);
    }
    let intervals = support::intervals(&log);
    assert!(intervals.len() > 100, "{} entries", intervals.len());
    let peak = support::peak_weight(&intervals);
    assert!(peak <= 5, "{peak} permits held at once with a budget of 5");
}
