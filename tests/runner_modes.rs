//! What the runners' ways of running a suite leave behind: a process per test (`cargo nextest
//! run`, `fresh_process`), run after run on one machine.

mod support;

use std::fs;

use isolate::isolated;

/// A test of its own process that joins a group, as nextest runs every test; a child of
/// [`a_process_per_test_leaves_no_holder_record_behind`] only.
#[test]
#[ignore = "a child of a_process_per_test_leaves_no_holder_record_behind"]
#[isolated(serial = "runner-modes-records")]
fn member_in_a_process_of_its_own() {
    assert!(
        support::role().is_some(),
        "a child of a_process_per_test_leaves_no_holder_record_behind only"
    );
}

/// [`member_in_a_process_of_its_own`] in a process of its own, with its isolate dir in `root`.
fn run_member(root: &tempfile::TempDir, log: &support::Log) {
    let mut member =
        support::child_in("member_in_a_process_of_its_own", "member", root.path(), log);
    support::run(&mut member, true);
}

/// Every group member publishes a record of itself in `holders/`. Under nextest each test is
/// a process of its own, which ends with its (emptied) record still there: the records of a
/// long-lived CI machine must not grow by one per test process, run after run.
#[test]
fn a_process_per_test_leaves_no_holder_record_behind() {
    let root = support::private_root();
    let log = support::Log {
        path: root.path().join("log"),
    };
    for _ in 0..6 {
        run_member(&root, &log);
    }
    let records: Vec<_> = fs::read_dir(root.path().join("holders"))
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name())
        .collect();
    // The last process's own record may stay: it ends without removing it. Dead ones go.
    assert!(records.len() <= 1, "records left behind: {records:?}");
}

/// A process killed between creating its record and naming it leaves a draft, `new-h-...`,
/// unlocked: the next process that creates a record removes it with the dead records.
#[test]
fn a_draft_left_by_a_killed_process_is_removed() {
    let root = support::private_root();
    let log = support::Log {
        path: root.path().join("log"),
    };
    let holders = root.path().join("holders");
    fs::create_dir_all(&holders).unwrap();
    fs::set_permissions(
        &holders,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let draft = holders.join("new-h-4194304-0123456789abcdef0123456789abcdef-1");
    fs::write(&draft, "").unwrap();
    run_member(&root, &log);
    assert!(!draft.exists(), "the dead process's draft is still there");
}

/// The fresh-process test that [`a_fresh_process_test_reruns_its_binary_after_a_rebuild`]
/// runs from a binary that is gone from its path.
#[test]
#[ignore = "run by a_fresh_process_test_reruns_its_binary_after_a_rebuild"]
#[isolated(fresh_process)]
fn fresh_in_a_removed_binary() {
    println!("fresh child {}", std::process::id());
}

#[test]
#[ignore = "run by a_fresh_process_test_reruns_its_binary_after_a_rebuild"]
fn removes_its_binary_then_runs_a_fresh_test() {
    assert_eq!(support::role().as_deref(), Some("removed"));
    // What a rebuild of the suite does to a running binary: the linker writes a new file,
    // the old one is unlinked.
    fs::remove_file(std::env::current_exe().unwrap()).unwrap();
    println!("parent {}", std::process::id());
    fresh_in_a_removed_binary();
}

/// `cargo test` while another run (a second CI job, an edit and a rerun) rebuilds the same
/// target dir: the running binary's path names a new file or none, and its fresh-process tests
/// must still re-run the binary that runs, not fail or run another build's code.
#[test]
fn a_fresh_process_test_reruns_its_binary_after_a_rebuild() {
    let dir = support::private_root();
    let copy = dir.path().join("suite");
    fs::copy(std::env::current_exe().unwrap(), &copy).unwrap();
    let mut command = std::process::Command::new(&copy);
    command
        .args([
            "--exact",
            "removes_its_binary_then_runs_a_fresh_test",
            "--include-ignored",
            "--nocapture",
        ])
        .env(support::ROLE, "removed")
        .env(isolate::env::DIR, dir.path())
        // As `cargo test` runs it: the fresh test forks a child of its own.
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE");
    // A file just written cannot be run while a process forked meanwhile (another test's
    // child, before its `exec`) still holds the descriptor it was written through: the kernel
    // says ETXTBSY until that child has exec'd, which is a matter of moments.
    let mut busy = 0;
    let output = loop {
        match command.output() {
            Err(e) if e.raw_os_error() == Some(26) && busy < 500 => {
                busy += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            output => break output.expect("run the copy of the test binary"),
        }
    };
    let text = support::text(&output);
    assert!(output.status.success(), "{text}");
    let pid = |prefix: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"))
            .to_owned()
    };
    assert_ne!(pid("parent "), pid("fresh child "), "{text}");
}

/// The fresh-process test that [`a_cargo_test_started_under_nextest_still_forks`] runs.
#[test]
#[ignore = "run by a_cargo_test_started_under_nextest_still_forks"]
#[isolated(fresh_process)]
fn fresh_reports_its_pid() {
    println!("fresh pid {}", std::process::id());
}

/// The pid of the process that ran this binary with `args` as nextest's child would (its
/// variables set), and the pid the fresh-process test reported.
fn runner_and_fresh_pid(args: &[&str]) -> (u32, u32) {
    let dir = support::private_root();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env("NEXTEST", "1")
        .env("NEXTEST_EXECUTION_MODE", "process-per-test")
        .env(isolate::env::DIR, dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let runner = child.id();
    let output = child.wait_with_output().unwrap();
    let text = support::text(&output);
    assert!(output.status.success(), "{text}");
    let fresh = text
        .lines()
        .find_map(|line| line.strip_prefix("fresh pid "))
        .unwrap_or_else(|| panic!("no `fresh pid` line in:\n{text}"));
    (runner, fresh.trim().parse().unwrap())
}

/// Under nextest a test has its process to itself, and runs in place. But a `cargo test` that
/// a test run by nextest starts (a suite testing a cargo plugin, a build script's checks)
/// inherits nextest's variables and runs many tests in one process: its fresh-process tests
/// must still fork, not run in place among the others.
#[test]
fn a_cargo_test_started_under_nextest_still_forks() {
    let exact = [
        "--exact",
        "fresh_reports_its_pid",
        "--include-ignored",
        "--nocapture",
    ];
    let (runner, fresh) = runner_and_fresh_pid(&exact);
    assert_eq!(
        runner, fresh,
        "as nextest runs it, the test is its process's own"
    );
    let many = ["fresh_reports_its", "--include-ignored", "--nocapture"];
    let (runner, fresh) = runner_and_fresh_pid(&many);
    assert_ne!(
        runner, fresh,
        "a process of many tests ran a fresh test in place"
    );
}
