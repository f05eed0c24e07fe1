//! `fresh_process`: under `cargo test` the test runs in a child process of the binary, and is
//! reported exactly as if it had run in place; under nextest it runs in place.

mod support;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};

use isolate::isolated;

/// A once-per-process global, like a logger: each of these two tests sets it first.
static INITIALISED: AtomicBool = AtomicBool::new(false);

#[test]
#[isolated(fresh_process)]
fn first_to_initialise() {
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
}

#[test]
#[isolated(fresh_process, env, tmpdir)]
fn second_to_initialise() -> Result<(), String> {
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
    std::env::set_var("ISOLATE_T_FRESH", "1");
    std::fs::write(tmpdir.join("f"), "x").map_err(|e| e.to_string())
}

#[test]
#[should_panic(expected = "expected message")]
#[isolated(fresh_process)]
fn should_panic_passes() {
    panic!("the expected message");
}

#[isolated(fresh_process)]
mod module {
    #[test]
    fn initialises_too() {
        assert!(!super::INITIALISED.swap(true, std::sync::atomic::Ordering::SeqCst));
    }
}

// Each pair below: the same body in place and in a fresh process. Run by `reports_like_in_place`.
macro_rules! twins {
    // The body as tokens: a `$body:block` reaches the attribute wrapped in an invisible group.
    ($($(#[$attr:meta])* fn $name:ident() $(-> $ret:ty)? { $($body:tt)* })*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            #[ignore = "child process of reports_like_in_place"]
            $(#[$attr])*
            fn in_place() $(-> $ret)? { $($body)* }

            #[test]
            #[ignore = "child process of reports_like_in_place"]
            $(#[$attr])*
            #[isolated(fresh_process)]
            fn fresh() $(-> $ret)? { $($body)* }
        }
    )*};
}

twins! {
    fn passes() {
        println!("printed by the passing test");
    }
    fn panics() {
        println!("printed before the panic");
        panic!("boom: {}", 42);
    }
    fn returns_err() -> Result<(), String> {
        Err("the returned error".into())
    }
    #[should_panic(expected = "expected")]
    fn should_panic_ok() {
        panic!("as expected");
    }
    #[should_panic(expected = "expected")]
    fn should_panic_wrong_message() {
        panic!("something else");
    }
    #[should_panic(expected = "anything")]
    fn should_panic_returns() {}
    fn catches_a_panic_then_passes() {
        assert!(std::panic::catch_unwind(|| panic!("caught")).is_err());
    }
    fn panics_mid_line() {
        print!("half a line, ");
        panic!("then a panic");
    }
    fn returns_failure_code() -> std::process::ExitCode {
        println!("printed before the code");
        std::process::ExitCode::from(7)
    }
    fn interleaves_then_returns_err() -> Result<(), String> {
        interleave();
        Err("line 5 returned".into())
    }
    fn interleaves_then_panics() {
        interleave();
        panic!("line 5 panicked");
    }
    // `should_panic` as some suites write it, behind a `cfg_attr`.
    #[cfg_attr(all(), should_panic(expected = "anything"))]
    fn should_panic_in_cfg_attr_returns() {}
    #[cfg_attr(all(), should_panic(expected = "expected"))]
    fn should_panic_in_cfg_attr_wrong_message() {
        panic!("something else");
    }
    #[cfg_attr(any(), should_panic(expected = "anything"))]
    fn should_panic_in_cfg_attr_off() {
        panic!("not expected");
    }
    // A hook of its own that does not call the one before it, which reads panic messages.
    #[should_panic(expected = "its own hook")]
    fn replaces_the_panic_hook() {
        std::panic::set_hook(Box::new(|_| eprintln!("a hook of its own")));
        panic!("panics with its own hook");
    }
    fn replaces_the_panic_hook_and_fails() {
        std::panic::set_hook(Box::new(|_| eprintln!("a hook of its own")));
        panic!("fails with its own hook");
    }
    fn returns_a_multi_line_boxed_err() -> Result<(), Box<dyn std::error::Error>> {
        Err("first line\nsecond line\n".into())
    }
    #[should_panic(expected = "two\nlines")]
    fn should_panic_multi_line() {
        panic!("a message in two\nlines, as expected\n");
    }
    #[should_panic(expected = "na\u{ef}ve \u{65e5}\u{672c} \u{2713}")]
    fn should_panic_non_ascii() {
        panic!("the na\u{ef}ve \u{65e5}\u{672c} \u{2713} message");
    }
    #[should_panic(expected = "na\u{ef}ve \u{65e5}\u{672c} \u{2713}")]
    fn should_panic_non_ascii_wrong_message() {
        panic!("the naive message");
    }
    // Without a message on purpose: any panic passes.
    #[allow(clippy::should_panic_without_expect)]
    #[should_panic]
    fn should_panic_bare() {
        panic!("any message");
    }
    // Without a message on purpose: any panic passes.
    #[allow(clippy::should_panic_without_expect)]
    #[should_panic]
    fn should_panic_bare_returns() {}
    fn panics_in_a_joined_thread() {
        std::thread::spawn(|| panic!("in a thread")).join().unwrap();
    }
    fn panics_with_no_string() {
        std::panic::panic_any(42_u32);
    }
    #[should_panic(expected = "anything")]
    fn should_panic_with_no_string() {
        std::panic::panic_any(42_u32);
    }
    // Without a message on purpose: any panic passes.
    #[allow(clippy::should_panic_without_expect)]
    #[should_panic]
    fn should_panic_bare_with_no_string() {
        std::panic::panic_any(42_u32);
    }
    fn panics_with_control_characters() {
        panic!("a\r\nb\\n c\t\u{1}d");
    }
}

/// Output on both streams, in an order to keep. Whole lines: the child's stdout is
/// line-buffered, as it is in place under `--nocapture`, so a line printed in parts around a
/// write to stderr comes after that write.
fn interleave() {
    println!("line 1 out");
    eprintln!("line 2 err");
    println!("line 3 out");
    eprintln!("line 4 err");
}

/// `enter` fails (a bad `ISOLATE_TIMEOUT`) before the test has a guard.
mod enter_fails {
    use super::*;

    #[test]
    #[ignore = "child process of reports_like_in_place"]
    #[isolated(env)]
    fn in_place() {}

    #[test]
    #[ignore = "child process of reports_like_in_place"]
    #[isolated(env, fresh_process)]
    fn fresh() {}
}

/// Runs the one test `name`, as `cargo test` runs it (captured, many threads); the harness's
/// verdict and what it printed about the test, with the twin's name made common.
fn run(name: &str, nextest: bool) -> (bool, String) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", name, "--include-ignored"])
        .env("RUST_BACKTRACE", "0");
    if name.starts_with("enter_fails::") {
        command.env("ISOLATE_TIMEOUT", "soon");
    }
    command
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE");
    if nextest {
        command.env("NEXTEST_EXECUTION_MODE", "process-per-test");
    }
    let output = command.output().unwrap();
    let text = support::text(&output)
        .replace("::in_place", "::TEST")
        .replace("::fresh", "::TEST");
    (output.status.success(), text)
}

/// The lines that tell how a test ended, without locations and timings.
fn report(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| {
            !line.contains("panicked at")
                && !line.contains("finished in")
                && !line.starts_with("note: run with")
                && !line.trim().is_empty()
        })
        // `did not panic as expected at <the fn's line>`: the twins are on different lines.
        .map(|line| line.split(" at tests/").next().unwrap_or(line))
        // `found non-string value: `TypeId(..)``: the parent cannot rebuild the child's
        // payload, only that it was no text.
        .map(|line| line.split("TypeId(").next().unwrap_or(line).to_owned())
        .collect()
}

#[test]
fn reports_like_in_place() {
    for nextest in [false, true] {
        for twin in [
            "passes",
            "panics",
            "returns_err",
            "should_panic_ok",
            "should_panic_wrong_message",
            "should_panic_returns",
            "catches_a_panic_then_passes",
            "panics_mid_line",
            "returns_failure_code",
            "interleaves_then_returns_err",
            "interleaves_then_panics",
            "should_panic_in_cfg_attr_returns",
            "should_panic_in_cfg_attr_wrong_message",
            "should_panic_in_cfg_attr_off",
            "replaces_the_panic_hook",
            "replaces_the_panic_hook_and_fails",
            "returns_a_multi_line_boxed_err",
            "should_panic_multi_line",
            "should_panic_non_ascii",
            "should_panic_non_ascii_wrong_message",
            "should_panic_bare",
            "should_panic_bare_returns",
            "panics_in_a_joined_thread",
            "panics_with_no_string",
            "should_panic_with_no_string",
            "should_panic_bare_with_no_string",
            "panics_with_control_characters",
            "enter_fails",
        ] {
            let (ok, in_place) = run(&format!("{twin}::in_place"), nextest);
            let (fresh_ok, fresh) = run(&format!("{twin}::fresh"), nextest);
            assert_eq!(ok, fresh_ok, "{twin}:\n{in_place}\n---\n{fresh}");
            let (expected, actual) = (report(&in_place), report(&fresh));
            let missing: Vec<&String> = expected.iter().filter(|l| !actual.contains(l)).collect();
            assert!(
                missing.is_empty(),
                "{twin} (nextest: {nextest}) misses {missing:?}:\n{in_place}\n---\n{fresh}"
            );
            // Nor more: no line of the child's harness, no error of our own.
            let extra: Vec<&String> = actual.iter().filter(|l| !expected.contains(l)).collect();
            assert!(
                extra.is_empty(),
                "{twin} (nextest: {nextest}) adds {extra:?}:\n{in_place}\n---\n{fresh}"
            );
        }
    }
}

/// Captured, a test's stdout and stderr are one stream, shown in the order written; not
/// captured (`--nocapture`), each goes where it was written.
#[test]
fn output_keeps_its_order_and_its_stream() {
    let lines = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|line| line.contains("line "))
            .map(str::to_owned)
            .collect()
    };
    for twin in ["interleaves_then_returns_err", "interleaves_then_panics"] {
        let (_, in_place) = run(&format!("{twin}::in_place"), false);
        let (_, fresh) = run(&format!("{twin}::fresh"), false);
        assert_eq!(lines(&in_place), lines(&fresh), "{in_place}\n---\n{fresh}");
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("{twin}::fresh"), "--include-ignored"])
            .arg("--nocapture")
            .env_remove("NEXTEST")
            .env_remove("NEXTEST_EXECUTION_MODE")
            .output()
            .unwrap();
        let stdout = lines(&String::from_utf8_lossy(&output.stdout));
        let stderr = lines(&String::from_utf8_lossy(&output.stderr));
        assert_eq!(stdout, ["line 1 out", "line 3 out"], "{stderr:?}");
        assert_eq!(stderr[..2], ["line 2 err", "line 4 err"], "{stdout:?}");
        assert!(stderr[2].contains("line 5"), "{stderr:?}");
    }
}

// Cases that `rstest` and `test_case` generate are listed as `<fn>::<case>`: each still runs in
// a process of its own (the second of two in one process would fail).
#[isolated(fresh_process)]
#[rstest::rstest]
#[case(1)]
#[case(2)]
fn rstest_cases(#[case] n: u8) {
    assert!(n > 0);
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
}

#[isolated(fresh_process)]
#[test_case::test_case(1 ; "one")]
#[test_case::test_case(2 ; "two")]
fn test_case_cases(n: u8) {
    assert!(n > 0);
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
}

// The attribute above and below `#[tokio::test]` (named for where tokio's is): each test in a
// process of its own.
#[isolated(fresh_process, env)]
#[tokio::test]
async fn tokio_below() {
    tokio::task::yield_now().await;
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[isolated(fresh_process, env)]
async fn tokio_above() {
    tokio::task::yield_now().await;
    assert!(
        !INITIALISED.swap(true, Ordering::SeqCst),
        "not a fresh process"
    );
}

#[isolated(fresh_process)]
fn not_a_test() {}

#[test]
#[ignore = "child process of the test below"]
fn calls_a_fresh_helper() {
    not_a_test();
}

#[test]
fn a_test_that_cannot_be_re_run_says_why() {
    // Under nextest too: a helper's name is not the test nextest started the process for.
    for nextest in [false, true] {
        let (ok, text) = run("calls_a_fresh_helper", nextest);
        assert!(!ok, "{text}");
        assert!(text.contains("ran no test of that exact name"), "{text}");
        // Advice that helps: running under nextest would not.
        assert!(
            text.contains("put `fresh_process` on the test") && !text.contains("nextest"),
            "{text}"
        );
    }
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn exits_midway() {
    println!("printed before the exit");
    std::process::exit(3);
}

#[test]
fn a_process_that_ends_before_its_test_says_so() {
    let (ok, text) = run("exits_midway", false);
    assert!(!ok, "{text}");
    assert!(text.contains("printed before the exit"), "{text}");
    assert!(
        text.contains("ended (exit status: 3) before the test finished"),
        "{text}"
    );
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn exits_with_success_midway() {
    // Nothing printed first: the test began all the same.
    std::process::exit(0);
}

/// `process::exit(0)` in the middle of a test is not the test passing: its end never ran.
#[test]
fn a_process_that_exits_with_success_before_its_test_ends_fails() {
    let (ok, text) = run("exits_with_success_midway", false);
    assert!(!ok, "{text}");
    assert!(
        text.contains("ended (exit status: 0) before the test finished"),
        "{text}"
    );
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn leaves_a_process_holding_its_stdout() {
    // Inherits the child's stdout and stderr, like a server a test starts and does not stop.
    let sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let log = support::Log::from_env();
    log.append(&sleeper.id().to_string());
    // Left running on purpose: the parent kills it.
    std::mem::forget(sleeper);
}

/// A process the test started and left running keeps the child's stdout open: the test ends
/// when the child does, as in place, not when that process does.
#[test]
fn a_process_left_running_does_not_hold_the_test() {
    let root = support::private_root();
    let log = support::Log::new(root.path());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "leaves_a_process_holding_its_stdout",
            "--include-ignored",
        ])
        .env(support::LOG, &log.path)
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE")
        .output()
        .unwrap();
    let pid: u32 = log.lines()[0].parse().unwrap();
    let left_running = support::running(pid);
    let _ = Command::new("kill").arg(pid.to_string()).status();
    assert!(output.status.success(), "{}", support::text(&output));
    assert!(
        left_running,
        "the test waited for the process it left running"
    );
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn waits_to_be_killed() {
    support::Log::from_env().append(&format!("fresh {}", std::process::id()));
    std::thread::sleep(std::time::Duration::from_secs(300));
}

/// A test process killed while its fresh process runs (SIGKILL, as a runner's timeout sends)
/// takes the fresh process with it, as it would have taken the test run in place: nothing is
/// left holding the test's groups, ports or output files.
#[test]
fn a_killed_test_process_takes_its_fresh_process_with_it() {
    let root = support::private_root();
    let log = support::Log::new(root.path());
    let parent = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "waits_to_be_killed", "--include-ignored"])
        .env(support::LOG, &log.path)
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut parent = support::KillOnDrop(parent);
    log.wait_for("fresh ", 1, std::time::Duration::from_secs(30));
    let fresh: u32 = log.lines()[0]["fresh ".len()..].parse().unwrap();
    parent.0.kill().unwrap();
    parent.0.wait().unwrap();
    let gone = support::within(std::time::Duration::from_secs(30), || {
        !support::running(fresh)
    });
    if !gone {
        let _ = Command::new("kill")
            .args(["-KILL", &fresh.to_string()])
            .status();
    }
    assert!(gone, "the fresh process outlived its killed test process");
}

const MARK: &str = "\u{1}isolate-fresh-process\u{1}";

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn prints_the_marker() {
    println!("{MARK}end returned");
    println!("printed after a record of its own");
    print!("{MARK}");
    panic!("the real ending");
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn prints_much_and_badly() {
    use std::io::Write;
    let line = "x".repeat(1023);
    for _ in 0..4096 {
        println!("{line}");
    }
    std::io::stdout()
        .write_all(b"not utf-8: \xff\xfe\n")
        .unwrap();
    eprintln!("on stderr");
    // Another thread still printing while the test ends.
    std::thread::spawn(|| loop {
        println!("from another thread");
    });
    // Failing, so that the harness shows what the test printed.
    panic!("after all that output");
}

/// What a test prints cannot pass for the child's report, whatever and however much it is.
#[test]
fn output_cannot_confuse_the_report() {
    let (ok, text) = run("prints_the_marker", false);
    assert!(!ok, "{text}");
    assert!(text.contains("the real ending"), "{text}");
    assert!(text.contains("printed after a record of its own"), "{text}");

    let (ok, text) = run("prints_much_and_badly", false);
    // Without its 4096 lines of `x`, which say nothing.
    let shown = || {
        let x = "x".repeat(1023);
        let lines: Vec<&str> = text.lines().filter(|line| *line != x).collect();
        format!(
            "{} bytes, besides the lines of x:\n{}",
            text.len(),
            lines.join("\n")
        )
    };
    assert!(!ok, "{}", shown());
    assert!(text.contains("after all that output"), "{}", shown());
    assert!(text.len() > 4 << 20, "{}", shown());
    assert!(text.contains("not utf-8: \u{fffd}\u{fffd}"), "{}", shown());
    assert!(text.contains("on stderr"), "{}", shown());
}

const LINES: usize = 2000;

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn prints_on_both_streams_from_two_threads() {
    use std::sync::Arc;
    let (started, stop) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let printer = std::thread::spawn({
        let (started, stop) = (started.clone(), stop.clone());
        move || {
            let mut printed = 0;
            while !stop.load(Ordering::SeqCst) {
                println!("from another thread");
                printed += 1;
                started.store(true, Ordering::SeqCst);
            }
            printed
        }
    });
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    for i in 0..LINES {
        // In one write: `eprintln!` writes its pieces one by one to the unbuffered stderr, and
        // another thread's whole line may come between them (though none is lost).
        let line = format!("stderr line {i}\n");
        std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes()).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let printed = printer.join().unwrap();
    // Failing, so that the harness shows what the test printed.
    panic!("the other thread printed {printed} lines");
}

/// Captured, the child's stderr shares its stdout's file and offset: a line written to one
/// while another thread writes to the other is not written over, as it is not in place.
#[test]
fn output_of_two_threads_on_two_streams_is_all_kept() {
    let (ok, text) = run("prints_on_both_streams_from_two_threads", false);
    assert!(!ok, "{text}");
    let lost: Vec<usize> = (0..LINES)
        .filter(|i| !text.contains(&format!("stderr line {i}\n")))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {LINES} lines on stderr lost, the first {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    let printed: usize = text
        .split("the other thread printed ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of lines printed: {text}"));
    let kept = text.matches("from another thread\n").count();
    assert_eq!(kept, printed, "lines on stdout lost");
}

#[test]
#[ignore = "child process of the test below"]
#[isolated(fresh_process)]
fn r#loop() {
    println!("a test named by a raw identifier");
}

/// libtest lists a test named by a raw identifier as written (`r#loop`), where the attribute
/// reads it as `loop`: the fresh process still runs it.
#[test]
fn a_test_named_by_a_raw_identifier_runs() {
    let (ok, text) = run("r#loop", false);
    assert!(ok, "{text}");
}

#[test]
#[ignore = "child process of the test below"]
#[should_panic(expected = "its own hook")]
#[isolated(fresh_process)]
fn replaces_the_panic_hook_and_panics_otherwise() {
    std::panic::set_hook(Box::new(|_| eprintln!("a hook of its own")));
    panic!("another message");
}

/// A test that replaced the panic hook, which reads messages in the child, and panicked with
/// a message it did not expect fails, saying why its message cannot be shown.
#[test]
fn a_replaced_panic_hook_is_named_when_the_message_is_needed() {
    let (ok, text) = run("replaces_the_panic_hook_and_panics_otherwise", false);
    assert!(!ok, "{text}");
    assert!(text.contains("a hook of its own"), "{text}");
    assert!(
        text.contains("the test replaced the panic hook without calling the one"),
        "{text}"
    );
}

/// One stay in the group `fresh-group`, named with the process it ran in.
fn in_the_group(who: &str) {
    let who = format!("{who}@{}", std::process::id());
    support::stay(&support::Log::from_env(), &who, "serial", 1, || {
        support::work(2_000);
    });
}

// Run by `a_fresh_process_holds_its_resources_in_the_child`.
macro_rules! group_members {
    ($($fresh:ident)*; $($in_place:ident)*) => {
        $(
            #[test]
            #[ignore = "child process of a_fresh_process_holds_its_resources_in_the_child"]
            #[isolated(fresh_process, serial = "fresh-group", port, tmpdir)]
            fn $fresh() {
                // Held where the body runs: the listener accepts, the directory is there.
                std::net::TcpStream::connect(port.addr()).unwrap();
                assert!(tmpdir.path().is_dir());
                in_the_group(stringify!($fresh));
            }
        )*
        $(
            #[test]
            #[ignore = "child process of a_fresh_process_holds_its_resources_in_the_child"]
            #[isolated(serial = "fresh-group")]
            fn $in_place() {
                in_the_group(stringify!($in_place));
            }
        )*
    };
}

group_members!(member_fresh_1 member_fresh_2 member_fresh_3; member_in_place_1 member_in_place_2);

/// The child of a fresh process holds the test's group, port and temp dir: no two members of
/// one serial group overlap, whether they ran in fresh processes or in place.
#[test]
fn a_fresh_process_holds_its_resources_in_the_child() {
    let root = support::private_root();
    let log = support::Log::new(root.path());
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["member_", "--include-ignored", "--test-threads", "8"])
        .env(isolate::env::DIR, root.path())
        .env(support::LOG, &log.path)
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE")
        .output()
        .unwrap();
    let text = support::text(&output);
    assert!(text.contains("5 passed"), "{text}");
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 5, "{intervals:?}");
    support::assert_exclusive_alone(&intervals);
    let pid = |interval: &support::Interval| interval.who.split('@').nth(1).unwrap().to_owned();
    let fresh: std::collections::HashSet<String> = intervals
        .iter()
        .filter(|i| i.who.starts_with("member_fresh"))
        .map(pid)
        .collect();
    let in_place: std::collections::HashSet<String> = intervals
        .iter()
        .filter(|i| i.who.starts_with("member_in_place"))
        .map(pid)
        .collect();
    assert_eq!(
        fresh.len(),
        3,
        "each fresh member in a process of its own: {intervals:?}"
    );
    assert_eq!(in_place.len(), 1, "{intervals:?}");
    assert!(fresh.is_disjoint(&in_place), "{intervals:?}");
}

#[test]
#[ignore = "child process of the test below"]
#[should_panic(expected = "its own hook")]
#[isolated(fresh_process)]
fn catches_the_expected_panic_then_replaces_the_hook() {
    // Recorded by the hook that reads messages, then caught.
    assert!(std::panic::catch_unwind(|| panic!("caught: its own hook")).is_err());
    std::panic::set_hook(Box::new(|_| eprintln!("a hook of its own")));
    panic!("another message");
}

/// A `#[should_panic]` test ends as the child's harness judged it, even when the message the
/// parent has is an earlier, caught one that would pass.
#[test]
fn a_stale_message_does_not_pass_a_failing_should_panic_test() {
    let (ok, text) = run("catches_the_expected_panic_then_replaces_the_hook", false);
    assert!(!ok, "{text}");
    assert!(
        text.contains("the test replaced the panic hook without calling the one"),
        "{text}"
    );
}

#[isolated(env)]
fn holds_env_until(held: std::sync::mpsc::Sender<()>, release: std::sync::mpsc::Receiver<()>) {
    held.send(()).unwrap();
    release.recv().unwrap();
}

#[test]
#[ignore = "called by the test below"]
#[isolated(fresh_process, timeout = "200ms")]
fn impatient() {}

/// The parent of a fresh process reads `env` and `cwd` while it starts the child (so the child
/// starts from no writer's changes): that wait ends at the test's timeout, and says who held
/// them, like every wait; it neither waits on for minutes nor starts the child anyway.
#[test]
fn a_fresh_test_waits_for_a_writer_no_longer_than_its_timeout() {
    let (holder, release) = support::holding(holds_env_until);
    let (done, is_done) = std::sync::mpsc::channel();
    let fresh = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(impatient);
        let _ = done.send(());
        outcome
    });
    // Far beyond the test's 200ms: only a wait that ignores it gets here.
    let ended = is_done
        .recv_timeout(std::time::Duration::from_secs(60))
        .is_ok();
    release.send(()).unwrap();
    holder.join().unwrap();
    let outcome = fresh.join().unwrap();
    assert!(ended, "the fresh test waited past its timeout");
    let error = outcome.unwrap_err();
    let message = error.downcast_ref::<String>().unwrap();
    assert!(
        message.contains(
            "timed out after 0.2s waiting to take `env` as a reader (held by `holds_env_until`"
        ),
        "{message}"
    );
}
