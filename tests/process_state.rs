//! `env` and `cwd`: a writer runs alone among the tests of its process that declare the same
//! state and puts back what it changed on pass, failure and panic; readers overlap each other,
//! never a writer; nothing poisons.
//!
//! The tests that wait for readers to meet, or read who holds and who queues, have the gate to
//! themselves (`fresh_process`): under `cargo test` this file's other tests take `env` meanwhile,
//! and a writer of theirs queued would hold a reader back, or show in the message read.

mod support;

use std::time::Duration;

use isolate::isolated;
use support::{stay, Log};

const KEEP: &str = "ISOLATE_T_KEEP";
const GONE: &str = "ISOLATE_T_GONE";
const NEW: &str = "ISOLATE_T_NEW";

/// What every writer below does to the environment before it ends one way or another.
fn scribble() {
    std::env::set_var(KEEP, "changed");
    std::env::remove_var(GONE);
    std::env::set_var(NEW, "leaked");
}

fn assert_pristine() {
    assert_eq!(std::env::var(KEEP).as_deref(), Ok("before"));
    assert_eq!(std::env::var(GONE).as_deref(), Ok("present"));
    assert_eq!(std::env::var_os(NEW), None);
}

// Run in this order (libtest sorts by name) by `a_failing_writer_leaves_nothing_behind`.
#[test]
#[ignore = "child process of the test below"]
#[isolated(env)]
fn restore_1_panics() {
    scribble();
    panic!("the writer fails");
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(env(read))]
fn restore_2_check() {
    assert_pristine();
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(env, tmpdir)]
fn restore_3_errs() -> Result<(), String> {
    scribble();
    Err("the writer returns an error".into())
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(env(read))]
fn restore_4_check() {
    assert_pristine();
}

#[test]
#[ignore = "child process of the test below"]
#[should_panic(expected = "expected")]
#[isolated(env)]
fn restore_5_should_panic() {
    scribble();
    panic!("expected");
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(env(read))]
fn restore_6_check() {
    assert_pristine();
}

#[test]
fn a_failing_writer_leaves_nothing_behind() {
    let command = support::child("restore_", "restore");
    // A filter, not one exact name: the six tests, one after another, in name order.
    let args: Vec<_> = command
        .get_args()
        .filter(|arg| *arg != "--exact")
        .map(ToOwned::to_owned)
        .collect();
    let mut command = std::process::Command::new(command.get_program());
    command
        .args(args)
        .env(KEEP, "before")
        .env(GONE, "present")
        .env_remove(NEW);
    let output = support::text(&support::run(&mut command, false));
    for (test, verdict) in [
        ("restore_1_panics", "FAILED"),
        ("restore_2_check", "ok"),
        ("restore_3_errs", "FAILED"),
        ("restore_4_check", "ok"),
        ("restore_5_should_panic", "ok"),
        ("restore_6_check", "ok"),
    ] {
        assert!(
            output.contains(&format!("test {test} ... {verdict}"))
                || output.contains(&format!("{verdict}\ntest {test} ")),
            "`{test}` should be {verdict}:\n{output}"
        );
    }
    assert!(output.contains("2 failed"), "{output}");
    // The erring writer's temp dir is kept, as a failure's is, and its path printed; this test
    // asked for the failure, so it removes what the failure kept.
    let kept = output
        .lines()
        .find_map(|line| line.split_once("kept the temp dir of failed test `restore_3_errs`: "))
        .map_or_else(
            || panic!("no kept temp dir printed:\n{output}"),
            |(_, path)| std::path::PathBuf::from(path.trim()),
        );
    assert!(kept.is_dir(), "{} was printed as kept", kept.display());
    std::fs::remove_dir_all(&kept).unwrap();
}

#[isolated(env(read))]
fn reader(log: &Log, who: &str, readers: usize) {
    stay(log, who, "shared", 1, || {
        // Every reader is inside at once: readers overlap.
        log.wait_for("enter", readers, Duration::from_secs(30));
        assert_eq!(std::env::var_os(NEW), None, "a writer's variable leaked");
    });
}

#[isolated(env)]
fn writer(log: &Log, who: &str) {
    stay(log, who, "serial", 1, || {
        std::env::set_var(NEW, who);
        support::work(2_000);
        assert_eq!(
            std::env::var(NEW).as_deref(),
            Ok(who),
            "another writer overlapped"
        );
    });
}

#[test]
#[isolated(fresh_process)]
fn readers_overlap_each_other_never_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::new(dir.path());
    let readers = 3;
    std::thread::scope(|scope| {
        for i in 0..readers {
            let log = &log;
            scope.spawn(move || reader(log, &format!("r{i}"), readers));
        }
    });
    let writers_log = Log::new(&dir.path().join("w"));
    std::fs::create_dir(dir.path().join("w")).unwrap();
    std::thread::scope(|scope| {
        for i in 0..4 {
            let log = &writers_log;
            scope.spawn(move || {
                for round in 0..5 {
                    writer(log, &format!("w{i}.{round}"));
                }
            });
            scope.spawn(move || {
                for round in 0..5 {
                    reader_alone(log, &format!("q{i}.{round}"));
                }
            });
        }
    });
    let intervals = support::intervals(&writers_log);
    assert_eq!(intervals.len(), 40);
    support::assert_exclusive_alone(&intervals);
    assert_eq!(std::env::var_os(NEW), None);
}

#[isolated(env(read))]
fn reader_alone(log: &Log, who: &str) {
    stay(log, who, "shared", 1, || {
        support::work(500);
        assert_eq!(
            std::env::var_os(NEW),
            None,
            "a reader saw a writer's variable"
        );
    });
}

#[isolated(cwd, tmpdir)]
fn moves_into_its_dir(log: &Log, who: &str) {
    stay(log, who, "serial", 1, || {
        std::env::set_current_dir(tmpdir.path()).unwrap();
        support::work(1_000);
        let here = std::env::current_dir().unwrap();
        assert_eq!(
            here.canonicalize().unwrap(),
            tmpdir.path().canonicalize().unwrap()
        );
    });
}

#[test]
fn cwd_writers_run_alone_and_put_the_directory_back() {
    let before = std::env::current_dir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = Log::new(dir.path());
    std::thread::scope(|scope| {
        for i in 0..4 {
            let log = &log;
            scope.spawn(move || {
                for round in 0..4 {
                    moves_into_its_dir(log, &format!("c{i}.{round}"));
                }
            });
        }
    });
    support::assert_exclusive_alone(&support::intervals(&log));
    assert_eq!(std::env::current_dir().unwrap(), before);
}

#[isolated(env)]
fn inner_writer() {}

#[isolated(env(read))]
fn outer_reader() {
    inner_writer();
}

#[test]
fn a_writer_inside_a_reader_is_an_error_not_a_deadlock_nor_a_poisoning() {
    let error = std::thread::spawn(outer_reader).join().unwrap_err();
    let message = error.downcast_ref::<String>().unwrap();
    assert!(
        message.contains(
            "`inner_writer` cannot take `env` as a writer: this thread already holds `env` as a \
             reader, for `outer_reader`"
        ) && message.contains("declare `env` as a writer on `outer_reader`"),
        "{message}"
    );
    // The gate is free again: a writer gets in.
    std::thread::spawn(inner_writer).join().unwrap();
}

const NESTED: &str = "ISOLATE_T_NESTED";

#[isolated(env(read))]
fn reads_nested() -> Option<String> {
    std::env::var(NESTED).ok()
}

#[isolated(env)]
fn sets_nested(value: &str) {
    std::env::set_var(NESTED, value);
    assert_eq!(reads_nested().as_deref(), Some(value));
}

#[isolated(env)]
fn outer_writer() {
    std::env::set_var(NESTED, "outer");
    // Helpers with `env` or `env(read)` that the writer calls join it...
    assert_eq!(reads_nested().as_deref(), Some("outer"));
    sets_nested("inner");
    // ...and a nested writer puts back what it changed when it ends.
    assert_eq!(reads_nested().as_deref(), Some("outer"));
}

/// Helpers annotated `env` or `env(read)` called by a writer on its thread run inside it
/// (nothing else can run meanwhile), instead of failing as if they waited for themselves.
#[test]
fn helpers_a_writer_calls_join_it() {
    std::thread::spawn(outer_writer).join().unwrap();
    // The writer's own change is put back, and the gate is free: another writer gets in.
    std::thread::spawn(|| assert_eq!(reads_nested(), None))
        .join()
        .unwrap();
    std::thread::spawn(inner_writer).join().unwrap();
}

#[test]
fn vars_helpers_need_a_writer_and_refuse_bad_names() {
    // A reader: no writer can be running meanwhile.
    #[isolated(env(read))]
    fn refused() {
        let error = isolate::vars::set("ISOLATE_T_X", "1").unwrap_err();
        assert!(error.to_string().contains("`#[isolated(env)]`"), "{error}");
    }
    std::thread::spawn(refused).join().unwrap();
    #[isolated(env)]
    fn helpers() -> Result<(), isolate::Error> {
        isolate::vars::set("ISOLATE_T_HELPER", "1")?;
        assert_eq!(std::env::var("ISOLATE_T_HELPER").as_deref(), Ok("1"));
        let bad = isolate::vars::set("A=B", "1").unwrap_err();
        assert!(bad.to_string().contains("without `=`"), "{bad}");
        isolate::vars::remove("ISOLATE_T_HELPER")
    }
    std::thread::spawn(helpers).join().unwrap().unwrap();
}

#[isolated(cwd)]
fn removes_the_directory_it_started_in() {
    std::fs::remove_dir(std::env::current_dir().unwrap()).unwrap();
}

#[isolated(cwd, tmpdir)]
fn moves_into_its_dir_and_back() {
    std::env::set_current_dir(tmpdir.path()).unwrap();
}

#[test]
#[ignore = "child process of the test below"]
fn start_directory_removed() {
    // Code that declares nothing moves the process into a directory of its own...
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let start = rustix::fs::stat(".").unwrap().st_ino;
    // ...which a `cwd` test removes: it ends in the directory it found, removed or not.
    std::thread::spawn(removes_the_directory_it_started_in)
        .join()
        .unwrap();
    // The next `cwd` tests neither fail nor end elsewhere.
    for _ in 0..2 {
        std::thread::spawn(moves_into_its_dir_and_back)
            .join()
            .unwrap();
        assert_eq!(rustix::fs::stat(".").unwrap().st_ino, start);
    }
}

/// A `cwd` test puts back the directory it started in, not a path: one that removes it does
/// not fail every later `cwd` test of its process (they cannot read a path that is gone).
#[test]
fn a_removed_start_directory_fails_no_later_test() {
    let output = support::run(&mut support::child("start_directory_removed", "run"), true);
    let text = support::text(&output);
    assert!(!text.contains("isolate:"), "{text}");
}

/// The variable the composed tests below set (writers) or find unset (readers).
const COMPOSED: &str = "ISOLATE_T_COMPOSED";

fn composed_writer(who: &str) {
    stay(&Log::from_env(), who, "serial", 1, || {
        std::env::set_var(COMPOSED, who);
        support::work(2_000);
        assert_eq!(std::env::var(COMPOSED).as_deref(), Ok(who));
    });
}

fn composed_reader(who: &str) {
    stay(&Log::from_env(), who, "shared", 1, || {
        support::work(1_000);
        assert_eq!(
            std::env::var_os(COMPOSED),
            None,
            "a writer's variable leaked"
        );
    });
}

// Module-level, nested, stacked with other test attributes: run by the test below.
#[isolated(env)]
mod composed_writers {
    #[test]
    #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
    fn plain() {
        super::composed_writer("plain");
    }

    mod nested {
        #[tokio::test]
        #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
        async fn across_an_await() {
            let log = super::super::Log::from_env();
            super::super::stay(&log, "tokio", "serial", 1, || {
                std::env::set_var(super::super::COMPOSED, "tokio");
            });
            tokio::task::yield_now().await;
            super::super::stay(&log, "tokio-after-await", "serial", 1, || {
                assert_eq!(
                    std::env::var(super::super::COMPOSED).as_deref(),
                    Ok("tokio")
                );
            });
        }

        #[rstest::rstest]
        #[case("rstest-1")]
        #[case("rstest-2")]
        #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
        fn rstest_cases(#[case] who: &str) {
            super::super::composed_writer(who);
        }

        #[test_case::test_case("test-case-1")]
        #[test_case::test_case("test-case-2")]
        #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
        fn test_cases(who: &str) {
            super::super::composed_writer(who);
        }
    }
}

#[isolated(env(read))]
mod composed_readers {
    #[test]
    #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
    fn reads_1() {
        super::composed_reader("reader-1");
    }

    #[test]
    #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
    fn reads_2() {
        super::composed_reader("reader-2");
    }

    // A test's own `env` makes it a writer in a module of readers.
    #[test]
    #[ignore = "child process of env_composes_with_modules_and_other_test_attributes"]
    #[isolated(env)]
    fn writes_after_all() {
        super::composed_writer("own-writer");
    }
}

/// `env` on modules, nested modules, `#[tokio::test]` (held across `.await`), `#[rstest]` and
/// `#[test_case]` cases: no writer overlaps anyone, and none leaks its variable.
#[test]
fn env_composes_with_modules_and_other_test_attributes() {
    let root = support::private_root();
    let log = Log::new(root.path());
    // All of them at once.
    let mut all = support::children_in("composed_", 8, root.path(), &log);
    all.env_remove(COMPOSED);
    let output = support::run(&mut all, true);
    assert!(
        support::text(&output).contains("9 passed"),
        "{}",
        support::text(&output)
    );
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 10, "{intervals:?}");
    support::assert_exclusive_alone(&intervals);
}

#[isolated(env)]
fn holds_env_until(held: std::sync::mpsc::Sender<()>, release: std::sync::mpsc::Receiver<()>) {
    held.send(()).unwrap();
    release.recv().unwrap();
}

#[isolated(env(read))]
fn reads_env_until(held: std::sync::mpsc::Sender<()>, release: std::sync::mpsc::Receiver<()>) {
    held.send(()).unwrap();
    release.recv().unwrap();
}

#[isolated(env)]
fn queued_writer() {}

/// A reader that waits behind a queued writer (its test holds `env(read)` and waits for a
/// thread that asks for it again) is told so, by name, not only who reads.
#[test]
#[isolated(fresh_process)]
fn a_reader_held_back_by_a_queued_writer_names_it() {
    let (holder, release) = support::holding(reads_env_until);
    let writer = std::thread::spawn(queued_writer);
    // Until the writer is queued, the impatient reader gets in beside the holder.
    let message = (0..1_000)
        .find_map(|_| {
            let error = std::thread::spawn(impatient_reader).join().err()?;
            Some(error.downcast_ref::<String>().unwrap().clone())
        })
        .expect("the writer never queued");
    assert!(
        message.contains(
            "held by `reads_env_until`; new readers wait behind the writers queued for it: \
             `queued_writer`"
        ),
        "{message}"
    );
    release.send(()).unwrap();
    holder.join().unwrap();
    writer.join().unwrap();
}

#[isolated(env(read))]
fn reads_and_waits_for_a_writer_on_another_thread() -> String {
    let error = std::thread::spawn(impatient_writer).join().unwrap_err();
    error.downcast_ref::<String>().unwrap().clone()
}

/// A writer helper run on a thread that a reader test spawned and waits for cannot get in
/// before the test ends, and the test cannot end before it: the timeout says so, and what to
/// do, instead of only suggesting a longer wait.
#[test]
#[isolated(fresh_process)]
fn a_helper_waiting_for_its_own_test_is_told_what_to_do() {
    let message = std::thread::spawn(reads_and_waits_for_a_writer_on_another_thread)
        .join()
        .unwrap();
    assert!(
        message.contains("held by `reads_and_waits_for_a_writer_on_another_thread`")
            && message.contains(
                "if a holder runs this on another thread and waits for it (a helper with `env` \
                 called from a thread its test spawned), it never releases: declare `env` on the \
                 test only, not on helpers it runs on other threads"
            ),
        "{message}"
    );
}

#[isolated(env, timeout = "200ms")]
fn impatient_writer() {}

#[isolated(env(read), timeout = "200ms")]
fn impatient_reader() {}

/// A wait for `env` ends at the test's timeout, with a message that names the holder; a
/// writer that gave up holds back no reader afterwards.
#[test]
#[isolated(fresh_process)]
fn a_wait_for_env_is_bounded_and_names_the_holder() {
    let (holder, release) = support::holding(holds_env_until);
    for (kind, waiter) in [
        ("writer", impatient_writer as fn()),
        ("reader", impatient_reader),
    ] {
        let error = std::thread::spawn(waiter).join().unwrap_err();
        let message = error.downcast_ref::<String>().unwrap();
        assert!(
            message.contains(&format!(
                "timed out after 0.2s waiting to take `env` as a {kind} (held by `holds_env_until`"
            )),
            "{message}"
        );
        // The attribute's `timeout` is in force: it is named, beside the variable.
        assert!(
            message.contains(
                "raise the wait with `timeout = \"...\"` on the test or the `ISOLATE_TIMEOUT` \
                 environment variable"
            ),
            "{message}"
        );
    }
    release.send(()).unwrap();
    holder.join().unwrap();
    std::thread::spawn(impatient_reader).join().unwrap();
    std::thread::spawn(impatient_writer).join().unwrap();
}
