//! Process-wide state under attack: orders of release, async tests, odd names and values, and
//! fresh processes that end in every way a process can.

mod support;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use isolate::isolated;

/// Runs the one test `name` of this binary as `cargo test` runs it (not under nextest), with
/// `extra` arguments; its success and its output.
fn run(name: &str, extra: &[&str]) -> (bool, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--include-ignored"])
        .args(extra)
        .env_remove("NEXTEST")
        .env_remove("NEXTEST_EXECUTION_MODE")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (output.status.success(), support::text(&output))
}

#[test]
#[ignore = "child process of cwd_is_put_back_around_its_temp_dir"]
#[isolated(cwd, tmpdir)]
fn moves_into_its_temp_dir_and_fails() {
    std::env::set_current_dir(tmpdir.path()).unwrap();
    println!("moved into {}", tmpdir.path().display());
    panic!("fails inside its temp dir");
}

#[test]
#[ignore = "child process of cwd_is_put_back_around_its_temp_dir"]
#[isolated(cwd, tmpdir)]
fn moves_into_its_temp_dir_and_passes() {
    std::env::set_current_dir(tmpdir.path()).unwrap();
    std::fs::create_dir(tmpdir.join("sub")).unwrap();
    std::env::set_current_dir("sub").unwrap();
    println!("moved into {}", tmpdir.path().display());
}

#[test]
// Reads the directory that `async_writer_across_threads` changes meanwhile.
#[isolated(cwd(read))]
fn cwd_is_put_back_around_its_temp_dir() {
    let start = std::env::current_dir().unwrap();
    for (test, ok) in [
        ("moves_into_its_temp_dir_and_fails", false),
        ("moves_into_its_temp_dir_and_passes", true),
    ] {
        let (passed, text) = run(test, &["--nocapture"]);
        assert_eq!(passed, ok, "{text}");
        assert!(!text.contains("isolate: cannot"), "{text}");
        let dir = text
            .lines()
            .find_map(|line| line.strip_prefix("moved into "))
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(std::path::Path::new(dir).is_dir(), !ok, "{text}");
        if !ok {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
    assert_eq!(std::env::current_dir().unwrap(), start);
}

const ODD: &[u8] = b"ISOLATE_T_ODD_\xff\xfe";

#[isolated(env)]
fn sets_odd_names_and_values() {
    std::env::set_var(
        OsStr::from_bytes(ODD),
        OsStr::from_bytes(b"\xc3\x28 not utf-8"),
    );
    std::env::set_var("ISOLATE_T_EMPTY", "");
    std::env::set_var("ISOLATE_T_EXISTING", "changed");
    std::env::remove_var("ISOLATE_T_EXISTING");
    std::thread::spawn(|| panic!("a thread the writer joins"))
        .join()
        .unwrap();
}

#[test]
fn odd_names_empty_values_and_a_joined_panic_are_put_back() {
    #[isolated(env)]
    fn prepare() {
        std::env::set_var("ISOLATE_T_EXISTING", "was here");
        std::env::set_var(OsStr::from_bytes(ODD), "");
    }
    std::thread::spawn(prepare).join().unwrap();
    let before = sorted();
    std::thread::spawn(sets_odd_names_and_values)
        .join()
        .unwrap_err();
    assert_eq!(before, sorted());
    #[isolated(env)]
    fn clean() {
        std::env::remove_var("ISOLATE_T_EXISTING");
        std::env::remove_var(OsStr::from_bytes(ODD));
    }
    std::thread::spawn(clean).join().unwrap();
}

#[isolated(env(read))]
fn sorted() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    let mut vars: Vec<_> = std::env::vars_os().collect();
    vars.sort();
    vars
}

const ASYNC: &str = "ISOLATE_T_ASYNC";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[isolated(env, cwd, tmpdir)]
async fn async_writer_across_threads() {
    std::env::set_var(ASYNC, "set");
    std::env::set_current_dir(tmpdir.path()).unwrap();
    let inner = tokio::spawn(async { std::env::var(ASYNC).ok() })
        .await
        .unwrap();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(inner.as_deref(), Some("set"));
}

#[isolated(fresh_process)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_fresh_reads_env_set_by_nobody() {
    tokio::task::yield_now().await;
    assert_eq!(std::env::var_os(ASYNC), None);
}

#[test]
#[ignore = "child process of fresh_processes_end_in_every_way"]
#[isolated(fresh_process)]
fn writes_megabytes() {
    let line = "x".repeat(1023);
    for _ in 0..4096 {
        println!("{line}");
    }
    eprintln!("the end of megabytes");
}

#[test]
#[ignore = "child process of fresh_processes_end_in_every_way"]
#[isolated(fresh_process)]
fn reads_stdin() {
    let mut text = String::new();
    let read = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).unwrap();
    assert_eq!(read, 0);
}

#[test]
#[ignore = "child process of fresh_processes_end_in_every_way"]
#[isolated(fresh_process)]
fn aborts() {
    println!("before the abort");
    std::process::abort();
}

#[test]
#[ignore = "child process of fresh_processes_end_in_every_way"]
#[isolated(fresh_process)]
fn killed_by_a_signal() {
    let _ = Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status();
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
#[ignore = "child process of fresh_processes_end_in_every_way"]
#[isolated(fresh_process)]
fn err_of_many_lines() -> Result<(), Box<dyn std::error::Error>> {
    Err("first line of the error\nsecond line of the error".into())
}

#[test]
fn fresh_processes_end_in_every_way() {
    for extra in [
        &[][..],
        &["--test-threads=1"],
        &["--nocapture"],
        &["--test-threads", "1", "--nocapture"],
    ] {
        let (ok, text) = run("writes_megabytes", extra);
        assert!(ok, "{}", &text[text.len().saturating_sub(2000)..]);
        if extra.contains(&"--nocapture") {
            assert!(text.contains("the end of megabytes"), "{extra:?}");
            assert!(text.len() > 4 << 20, "{}", text.len());
        }
        let (ok, text) = run("reads_stdin", extra);
        assert!(ok, "{text}");
        let (ok, text) = run("aborts", extra);
        assert!(
            !ok && text.contains("before the abort") && text.contains("signal: 6"),
            "{extra:?} {text}"
        );
        let (ok, text) = run("killed_by_a_signal", extra);
        assert!(!ok && text.contains("signal: 9"), "{text}");
        let (ok, text) = run("err_of_many_lines", extra);
        assert!(
            !ok && text.contains("Error: \"first line of the error\\nsecond line of the error\""),
            "{extra:?} {text}"
        );
    }
}

const CONTENDED: &str = "ISOLATE_T_CONTENDED";

fn contended_writer(who: &str) {
    support::stay(&support::Log::from_env(), who, "serial", 1, || {
        assert_eq!(std::env::var_os(CONTENDED), None, "a writer leaked");
        std::env::set_var(CONTENDED, who);
        support::work(300);
        assert_eq!(std::env::var(CONTENDED).as_deref(), Ok(who));
    });
    // After its stay is logged, still holding `env` with its variable set.
    assert!(!who.ends_with('3'), "a contended writer fails");
}

fn contended_reader(who: &str) {
    support::stay(&support::Log::from_env(), who, "shared", 1, || {
        support::work(300);
        assert_eq!(std::env::var_os(CONTENDED), None, "a writer leaked");
    });
}

macro_rules! contenders {
    ($($writer:ident $reader:ident)*) => {$(
        #[test]
        #[ignore = "child process of many_writers_and_readers_contend"]
        #[isolated(env, timeout = "60s")]
        fn $writer() {
            contended_writer(stringify!($writer));
        }

        #[test]
        #[ignore = "child process of many_writers_and_readers_contend"]
        #[isolated(env(read), timeout = "60s")]
        fn $reader() {
            contended_reader(stringify!($reader));
        }
    )*};
}

contenders! {
    contend_w00 contend_r00 contend_w01 contend_r01 contend_w02 contend_r02 contend_w03 contend_r03
    contend_w04 contend_r04 contend_w05 contend_r05 contend_w06 contend_r06 contend_w07 contend_r07
    contend_w08 contend_r08 contend_w09 contend_r09 contend_w10 contend_r10 contend_w11 contend_r11
    contend_w12 contend_r12 contend_w13 contend_r13 contend_w14 contend_r14 contend_w15 contend_r15
}

/// 32 tests, half writers (one in eight fails), on 16 threads: no writer overlaps anyone,
/// none leaks, no wait times out.
#[test]
fn many_writers_and_readers_contend() {
    let root = support::private_root();
    let log = support::Log::new(root.path());
    let mut all = support::children_in("contend_", 16, root.path(), &log);
    all.env_remove(CONTENDED);
    let text = support::text(&support::run(&mut all, false));
    assert!(text.contains("30 passed; 2 failed"), "{text}");
    assert!(!text.contains("timed out"), "{text}");
    let intervals = support::intervals(&log);
    assert_eq!(intervals.len(), 32, "{intervals:?}");
    support::assert_exclusive_alone(&intervals);
}
