//! `isolate::Child`: starting, output capture, stopping (SIGTERM, grace, SIGKILL, the whole
//! group), readiness waits that end when the child dies, and the orphan guarantees when the
//! test process itself dies without running `Drop` (re-running this binary as the victim).

mod http_server;
mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use isolate::{eventually, ready, Child};
use support::{role, Log, ROLE};

/// Whether `pid` is a live process (not a zombie waiting to be reaped).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) if std::path::Path::new("/proc/self").exists() => false,
        Err(_) => Command::new("kill")
            .args(["-0", &pid.to_string()])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    }
}

fn gone(pid: u32) -> Result<(), String> {
    if alive(pid) {
        Err(format!("pid {pid} is still alive"))
    } else {
        Ok(())
    }
}

fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    command
}

/// The pid a child printed after `prefix`.
fn printed_pid(child: &Child, prefix: &str) -> u32 {
    let line = child.wait_line(ready::line(prefix).within("10s")).unwrap();
    line[line.find(prefix).unwrap() + prefix.len()..]
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_missing_program_is_named_with_the_fix() {
    let error = Child::spawn(&mut Command::new("isolate-no-such-server")).unwrap_err();
    let message = error.to_string();
    assert!(
        message.starts_with(
            "cannot start `isolate-no-such-server`; check the program's name, or give its path or put it on `PATH`"
        ),
        "{message}"
    );
}

#[test]
fn stop_sends_sigterm_and_returns_the_status_once_and_again() {
    let child = Child::spawn(Command::new("sleep").arg("300")).unwrap();
    assert!(alive(child.pid()));
    let status = child.stop().unwrap();
    assert_eq!(status.signal(), Some(15), "{status}");
    assert_eq!(child.stop().unwrap().signal(), Some(15));
    assert!(!alive(child.pid()));
}

#[test]
fn stop_escalates_to_sigkill_after_the_grace_period() {
    let child = Child::spawn(&mut sh(
        "trap '' TERM; echo armed; while :; do sleep 1; done",
    ))
    .unwrap()
    .grace(Duration::from_millis(200));
    child.wait_ready(ready::line("armed")).unwrap();
    let started = Instant::now();
    let status = child.stop().unwrap();
    assert_eq!(status.signal(), Some(9), "{status}");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[test]
fn drop_stops_the_childs_own_children_too() {
    let child = Child::spawn(&mut sh("sleep 300 & echo grandchild $!; wait")).unwrap();
    let grandchild = printed_pid(&child, "grandchild ");
    assert!(alive(grandchild));
    drop(child);
    eventually("5s", || gone(grandchild)).unwrap();
}

#[test]
fn a_panicking_test_stops_its_child() {
    let (sender, receiver) = std::sync::mpsc::channel();
    let result = std::panic::catch_unwind(move || {
        let child = Child::spawn(Command::new("sleep").arg("300")).unwrap();
        sender.send(child.pid()).unwrap();
        panic!("the test failed");
    });
    assert!(result.is_err());
    let pid = receiver.recv().unwrap();
    eventually("5s", || gone(pid)).unwrap();
}

#[test]
fn a_child_that_exits_ends_the_wait_at_once_with_its_status_output_and_command() {
    let port = isolate::ReservedPort::reserve().unwrap();
    let child = Child::spawn(&mut sh(
        "echo reading config; echo 'config: no such key `listen`' >&2; exit 3",
    ))
    .unwrap();
    let started = Instant::now();
    let error = child
        .wait_ready(ready::http(format!("http://127.0.0.1:{}/", port.port())).within("60s"))
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the wait did not end at once"
    );
    let message = error.to_string();
    for part in [
        "child `sh -c 'echo reading config;",
        &format!("(pid {}) exited with exit status: 3 after ", child.pid()),
        "while waiting for HTTP GET `http://127.0.0.1:",
        "the last failed with: Connection refused",
        // stdout and stderr are two pipes read by two threads: their lines keep their order
        // within a stream, not across the two.
        "its last output:\n  | ",
        "  | reading config",
        "  | config: no such key `listen`",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert!(!error.is_timeout());
}

/// A child that exited by itself keeps its pid (a zombie of ours) until it is stopped: its
/// record and the watchdog name that pid, which a stranger given it meanwhile (a daemon's
/// group outliving its leader, say) would otherwise have signalled when the test process
/// died. Its status reads the same before and after, and `stop` then reaps it.
#[cfg(target_os = "linux")]
#[test]
fn a_child_that_exited_keeps_its_pid_until_stopped() {
    let child = Child::spawn(&mut sh("exit 3")).unwrap();
    let pid = child.pid();
    let status = eventually("30s", || child.try_status().unwrap().ok_or("running")).unwrap();
    assert_eq!(status.code(), Some(3));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    let held = stat.as_deref().is_ok_and(|stat| {
        let fields: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
        fields[0] == "Z" && fields[1] == std::process::id().to_string()
    });
    assert!(held, "the exited child was reaped: {stat:?}");
    assert_eq!(child.stop().unwrap().code(), Some(3));
    let after = std::fs::read_to_string(format!("/proc/{pid}/stat"));
    let reaped = after.as_deref().map_or(true, |stat| {
        stat.rsplit(") ").next().unwrap().split(' ').nth(1)
            != Some(&*std::process::id().to_string())
    });
    assert!(reaped, "stop left a zombie: {after:?}");
}

#[test]
fn a_killed_child_reports_its_signal() {
    let child = Child::spawn(&mut sh("echo up; kill -9 $$")).unwrap();
    let error = child.wait_ready(ready::tcp("127.0.0.1:1")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("exited with signal: 9 (SIGKILL)"),
        "{error}"
    );
}

#[test]
fn a_timeout_shows_the_running_childs_state_and_tail() {
    let child = Child::spawn(&mut sh("echo migrating 1 of 400; sleep 300")).unwrap();
    child.wait_ready(ready::line("migrating")).unwrap();
    let error = child
        .wait_ready(ready::line("listening").within("100ms"))
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_timeout());
    for part in [
        "timed out after 0.1s waiting for a line containing `listening` in the child's output",
        "the last found it in none of 1 lines",
        &format!(
            "child `sh -c 'echo migrating 1 of 400; sleep 300'` (pid {}) is still running",
            child.pid()
        ),
        "its last output:\n  | migrating 1 of 400",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

/// A program whose stdout is a pipe may hold what it prints in a buffer (Python without
/// `-u`, C stdio): a line wait that runs out on a running child says so, rather than only
/// "raise the wait"; a child that exited had its buffers flushed, and gets no such hint.
#[test]
fn a_line_timeout_on_a_running_child_names_output_buffering() {
    let child = Child::spawn(&mut sh("printf 'no newline yet'; exec sleep 300")).unwrap();
    let error = child
        .wait_ready(ready::line("listening").within("100ms"))
        .unwrap_err();
    let message = error.to_string();
    for part in [
        "a line counts once it ends with a newline",
        "Python: `-u` or `PYTHONUNBUFFERED=1`",
        "`stdbuf -oL`",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    let exited = Child::spawn(&mut sh("exit 3")).unwrap();
    let message = exited
        .wait_ready(ready::line("listening").within("20s"))
        .unwrap_err()
        .to_string();
    assert!(!message.contains("stdbuf"), "{message}");
    let tcp = Child::spawn(&mut sh("exec sleep 300")).unwrap();
    let unused = isolate::ReservedPort::reserve().unwrap();
    let message = tcp
        .wait_ready(ready::tcp(("127.0.0.1", unused.port())).within("100ms"))
        .unwrap_err()
        .to_string();
    assert!(!message.contains("stdbuf"), "only a line wait: {message}");
}

#[test]
fn output_tail_keeps_the_last_200_lines() {
    let child = Child::spawn(&mut sh(
        "i=1; while [ $i -le 300 ]; do echo line $i; i=$((i+1)); done; sleep 300",
    ))
    .unwrap();
    child.wait_ready(ready::line("line 300")).unwrap();
    let tail = child.output_tail();
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 200);
    assert_eq!(lines[0], "line 101");
    assert_eq!(lines[199], "line 300");
}

#[test]
fn a_server_child_is_waited_for_over_http() {
    if role().as_deref() == Some("server") {
        // Binds at once, answers 503 for its first requests, then 200.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        println!("listening on {}", listener.local_addr().unwrap());
        let count = std::sync::atomic::AtomicU64::new(0);
        http_server::serve_on(
            &listener,
            &|n| {
                if n < 3 {
                    (503, "initialising")
                } else {
                    (200, "ready")
                }
            },
            &count,
        );
        return;
    }
    let child = Child::spawn(&mut support::child(
        "a_server_child_is_waited_for_over_http",
        "server",
    ))
    .unwrap();
    child.wait_ready(ready::line("listening on")).unwrap();
    let tail = child.output_tail();
    let addr = tail
        .lines()
        .find_map(|l| l.split("listening on ").nth(1))
        .unwrap()
        .to_owned();
    child
        .wait_ready(
            ready::http(format!("http://{addr}/"))
                .body_contains("ready")
                .within("30s"),
        )
        .unwrap();
    let status = child.stop().unwrap();
    assert_eq!(status.signal(), Some(15));
}

#[test]
fn async_wait_ready_leaves_the_runtime_free() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let child = Child::spawn(&mut sh("sleep 0.05; echo ready now; sleep 300")).unwrap();
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = std::sync::Arc::clone(&ticks);
        tokio::spawn(async move {
            loop {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        });
        child
            .wait_ready_async(ready::line("ready now"))
            .await
            .unwrap();
        assert!(
            ticks.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "the runtime was blocked"
        );
    });
}

/// The test's output capture: a child's lines show with a failing test's output, and not with
/// a passing one's. Run as a child test without `--nocapture`, as a runner would.
#[test]
fn output_shows_with_a_failing_test_only() {
    if let Some(role) = role() {
        if role == "pass" || role == "fail" {
            let child = Child::spawn(&mut sh("echo marker-from-the-child-7c1; sleep 300")).unwrap();
            child
                .wait_ready(ready::line("marker-from-the-child"))
                .unwrap();
            drop(child);
            assert_eq!(role, "pass", "failing on purpose");
        }
        return;
    }
    let run = |role: &str| {
        let output = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "output_shows_with_a_failing_test_only",
                "--test-threads",
                "1",
            ])
            .env(ROLE, role)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            output.status.success(),
            role == "pass",
            "{}",
            support::text(&output)
        );
        support::text(&output)
    };
    let failing = run("fail");
    assert!(failing.contains("sh["), "{failing}");
    assert!(
        failing.contains("]: marker-from-the-child-7c1"),
        "{failing}"
    );
    let passing = run("pass");
    assert!(!passing.contains("marker-from-the-child"), "{passing}");
}

/// Each forwarded line reaches the test's stream in one write, so the lines of processes that
/// share it (nextest, `--nocapture`) cannot land inside one another. The child test's stderr is
/// a datagram socket, on which every write arrives as one datagram.
#[test]
fn a_forwarded_line_is_written_whole() {
    if role().as_deref() == Some("lines") {
        let child = Child::spawn(&mut sh(
            "echo first-line-5e3 >&2; echo second-line-5e3 >&2; sleep 300",
        ))
        .unwrap();
        // A line is forwarded before a wait can see it.
        child.wait_line(ready::line("second-line-5e3")).unwrap();
        return;
    }
    let (ours, theirs) = std::os::unix::net::UnixDatagram::pair().unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "a_forwarded_line_is_written_whole",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(ROLE, "lines")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)));
    let mut process = command.spawn().unwrap();
    drop(command);
    // Read while it runs (a datagram socket's queue is short); once it has exited, what it
    // wrote is all queued, and is drained without waiting.
    ours.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut writes = Vec::new();
    let mut buffer = [0; 8_192];
    let mut exited = None;
    loop {
        match ours.recv(&mut buffer) {
            Ok(read) => writes.push(String::from_utf8_lossy(&buffer[..read]).into_owned()),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if exited.is_some() {
                    break;
                }
                exited = process.try_wait().unwrap();
                if exited.is_some() {
                    ours.set_nonblocking(true).unwrap();
                }
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(exited.unwrap().success(), "{writes:?}");
    for line in ["first-line-5e3", "second-line-5e3"] {
        let holding: Vec<&String> = writes.iter().filter(|w| w.contains(line)).collect();
        assert!(
            holding.len() == 1
                && holding[0].starts_with("sh[")
                && holding[0].ends_with(&format!("]: {line}\n")),
            "{line} was not one write of its own: {writes:?}"
        );
    }
}

/// A test process that dies without `Drop` (SIGKILL; SIGTERM as nextest sends on a timeout;
/// SIGINT as Ctrl-C) leaves no orphan: its child dies with it, and so does what the child
/// started (a shell's server), at once and with no later use of isolate (Linux: the
/// watchdog); elsewhere the next use of isolate stops what is left.
#[test]
fn children_of_a_killed_test_process_are_stopped() {
    if role().as_deref() == Some("victim") {
        let child = with_grandchild(&std::env::var("GRANDCHILD_PID_FILE").unwrap());
        Log::from_env().append(&format!("child {}", child.pid()));
        std::thread::sleep(Duration::from_secs(300)); // until killed
        return;
    }
    if role().as_deref() == Some("next-use") {
        drop(Child::spawn(&mut Command::new("true")).unwrap());
        return;
    }
    for signal in ["KILL", "TERM", "INT"] {
        if signal == "INT" && sigint_ignored() {
            // Inherited by the victim, which SIGINT then leaves running (as Ctrl-C would): a
            // shell starts a command run in the background (`cargo test &`) so.
            eprintln!("SIGINT is ignored in this process: the SIGINT case is skipped");
            continue;
        }
        let root = support::private_root();
        let log = Log::new(root.path());
        let pid_file = root.path().join("grandchild");
        let test = "children_of_a_killed_test_process_are_stopped";
        let mut victim = victim(test, "victim", root.path(), &log, &pid_file);
        let mut victim = support::KillOnDrop(victim.spawn().unwrap());
        log.wait_for("child ", 1, Duration::from_secs(30));
        let child: u32 = log.lines()[0]["child ".len()..].parse().unwrap();
        let grandchild = written_pid(&pid_file);
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &victim.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let _ = victim.0.wait();
        // The next use of isolate (which stops what a dead test process left, on every Unix)
        // comes only after the check on Linux: it must not be what stops them there.
        if !cfg!(target_os = "linux") {
            next_use(test, root.path());
        }
        // Generous: this proves that nothing waits for a later use, not how fast it is.
        let stopped = eventually("30s", || gone(grandchild).and_then(|()| gone(child)));
        if let Err(error) = stopped {
            next_use(test, root.path()); // stop them before failing, as the fallback does
            panic!("SIG{signal}: {error}");
        }
    }
}

/// A test process re-running `test` as `role`, with the isolate directory of its own in
/// `root`, `log`, and `pid_file` for its grandchild (see [`with_grandchild`]); output dropped.
fn victim(test: &str, role: &str, root: &Path, log: &Log, pid_file: &Path) -> Command {
    let mut victim = support::child(test, role);
    victim
        .env("ISOLATE_DIR", root.join("isolate"))
        .env(support::LOG, &log.path)
        .env("GRANDCHILD_PID_FILE", pid_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    victim
}

/// Runs `test` as the next use of isolate in `root`'s isolate directory (its role `next-use`
/// starts a child), which stops what dead test processes left there.
fn next_use(test: &str, root: &Path) {
    let mut next = support::child(test, "next-use");
    next.env("ISOLATE_DIR", root.join("isolate"));
    support::run(&mut next, true);
}

/// A child (a shell) that starts a long-lived grandchild, which writes its own pid to `pid_file`.
fn with_grandchild(pid_file: &str) -> Child {
    let mut command = Command::new("sh");
    command.args([
        "-c",
        r#"sh -c 'echo $$ > "$0.new" && mv "$0.new" "$0"; exec sleep 300' "$0" & exec sleep 300"#,
        pid_file,
    ]);
    Child::spawn(&mut command).unwrap()
}

/// The pid a grandchild of [`with_grandchild`] wrote, once it has.
fn written_pid(pid_file: &Path) -> u32 {
    assert!(
        support::within(Duration::from_secs(30), || pid_file.exists()),
        "the grandchild never wrote its pid"
    );
    std::fs::read_to_string(pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// This process's watchdog (the `/bin/sh` isolate starts with its first child), if it runs.
fn own_watchdog() -> Option<u32> {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let parent = stat.rsplit(')').next()?.split_whitespace().nth(1)?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let named = String::from_utf8_lossy(&cmdline).contains("isolate-watchdog");
            (parent == me && named && alive(pid)).then_some(pid)
        })
}

/// A watchdog that is killed itself (Linux): the next child starts another, told of every live
/// child, so the grandchildren of both children still go at once when the test process is
/// killed; with no next child, the records are the fallback, and the next use of isolate
/// stops what is left.
#[test]
fn a_killed_watchdog_is_replaced_or_else_the_records_stop_what_is_left() {
    if role().as_deref() == Some("watchdog-killed") {
        let first = with_grandchild(&std::env::var("GRANDCHILD_PID_FILE").unwrap());
        let watchdog = own_watchdog().expect("a watchdog");
        // It is this process's own child, started through isolate.
        assert!(Command::new("kill")
            .args(["-KILL", &watchdog.to_string()])
            .status()
            .unwrap()
            .success());
        eventually("30s", || gone(watchdog)).unwrap();
        let second = std::env::var("SECOND_PID_FILE")
            .ok()
            .map(|file| with_grandchild(&file));
        Log::from_env().append("ready");
        std::thread::sleep(Duration::from_secs(300)); // until killed
        drop((first, second));
        return;
    }
    if role().as_deref() == Some("next-use") {
        drop(Child::spawn(&mut Command::new("true")).unwrap());
        return;
    }
    if !cfg!(target_os = "linux") {
        return;
    }
    for replaced in [true, false] {
        let root = support::private_root();
        let log = Log::new(root.path());
        let (first_file, second_file) = (root.path().join("first"), root.path().join("second"));
        let test = "a_killed_watchdog_is_replaced_or_else_the_records_stop_what_is_left";
        let mut victim = victim(test, "watchdog-killed", root.path(), &log, &first_file);
        if replaced {
            victim.env("SECOND_PID_FILE", &second_file);
        }
        let mut victim = support::KillOnDrop(victim.spawn().unwrap());
        log.wait_for("ready", 1, Duration::from_secs(30));
        let mut grandchildren = vec![written_pid(&first_file)];
        if replaced {
            grandchildren.push(written_pid(&second_file));
        }
        victim.0.kill().unwrap();
        let _ = victim.0.wait();
        if !replaced {
            // Nothing but the next use stops it now.
            assert!(
                alive(grandchildren[0]),
                "the grandchild died with no watchdog"
            );
            next_use(test, root.path());
        }
        let stopped = eventually("30s", || {
            grandchildren.iter().try_for_each(|&pid| gone(pid))
        });
        if let Err(error) = stopped {
            next_use(test, root.path());
            panic!("replaced {replaced}: {error}");
        }
    }
}

/// Whether this process ignores SIGINT, and so would a child it starts (Linux; elsewhere the
/// default is assumed).
fn sigint_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

/// This process's peak resident memory in KiB (Linux), `None` elsewhere.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A child that writes hundreds of megabytes without a newline (binary data, a runaway
/// progress bar) costs the test a line's worth of memory, not the whole output. Played in a
/// fresh test process, whose peak memory is its own.
#[test]
fn a_line_without_end_does_not_fill_the_memory() {
    if role().as_deref() == Some("flood") {
        let child = Child::spawn(&mut sh(
            "head -c 300000000 /dev/zero | tr '\\0' x; echo; echo flood-done; exec sleep 300",
        ))
        .unwrap();
        child
            .wait_ready(ready::line("flood-done").within("120s"))
            .unwrap();
        let tail = child.output_tail();
        let long = tail.lines().next().unwrap();
        assert!(
            long.ends_with("x [...]") && long.len() < 3_000,
            "{}",
            &long[..100]
        );
        println!("peak {} KiB", peak_kib().unwrap());
        return;
    }
    if peak_kib().is_none() {
        return;
    }
    let output = support::run(
        support::child("a_line_without_end_does_not_fill_the_memory", "flood")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        true,
    );
    let text = support::text(&output);
    let peak: u64 = text
        .split("peak ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    // 300 MB went through; a test binary's own peak is a few tens of MB.
    assert!(peak < 100_000, "peak {peak} KiB for a 300 MB line");
}

#[test]
fn the_longest_grace_is_a_long_grace_not_a_panic() {
    let child = Child::spawn(&mut sh("exec sleep 300"))
        .unwrap()
        .grace(Duration::MAX);
    let status = child.stop().unwrap();
    assert_eq!(status.signal(), Some(15), "{status:?}");
}

/// A working directory that does not exist fails the start as a missing program does
/// (`ENOENT`): the message must blame the directory, not the program's name.
#[test]
fn a_missing_working_directory_is_named() {
    let root = support::private_root();
    let missing = root.path().join("not-made");
    let error = Child::spawn(Command::new("sh").current_dir(&missing)).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "its working directory `{}` does not exist",
            missing.display()
        )),
        "{message}"
    );
    assert!(!message.contains("check the program's name"), "{message}");
}

/// A server that says it listens and at once prints a burst of lines (a route table, a
/// config dump) scrolls that line out of the 200 kept: a wait already under way must still
/// see it, whatever the timing.
#[test]
fn a_ready_line_followed_by_a_burst_is_seen() {
    for _ in 0..5 {
        let child = Child::spawn(&mut sh(
            "sleep 0.2; { echo listening on 7; seq 20000; }; exec sleep 300",
        ))
        .unwrap()
        .grace(Duration::from_millis(100));
        child
            .wait_ready(ready::line("listening on").within("20s"))
            .unwrap();
    }
}

/// A server that binds port 0 prints the number it got: the test gets that line back whole,
/// as the child printed it, where `output_tail` has lost it once a burst (a route table)
/// followed. (The line is kept however many lines follow while the wait runs: the unit test
/// `a_line_printed_during_the_wait_is_seen_after_it_scrolled_out` pushes them mid-wait.)
#[test]
#[isolate::isolated(tmpdir)]
fn wait_line_returns_the_line_a_port_zero_server_printed() {
    let gate = tmpdir.join("gate");
    let child = Child::spawn(&mut sh(&format!(
        "echo listening on port: 41234; while [ ! -e '{}' ]; do sleep 0.01; done; seq 1000; exec sleep 300",
        gate.display()
    )))
    .unwrap()
    .grace(Duration::from_millis(100));
    let line = child
        .wait_line(ready::line("listening on port: ").within("20s"))
        .unwrap();
    assert_eq!(line, "listening on port: 41234");
    std::fs::write(&gate, "").unwrap();
    child.wait_ready(ready::line("1000").within("20s")).unwrap();
    assert!(!child.output_tail().contains("listening on port"));
}

#[test]
fn wait_line_async_returns_the_line_and_fails_as_wait_ready_does() {
    let child = Child::spawn(&mut sh("echo ready at 7; exec sleep 300"))
        .unwrap()
        .grace(Duration::from_millis(100));
    let line = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(child.wait_line_async(ready::line("ready at").within("20s")))
        .unwrap();
    assert_eq!(line, "ready at 7");
    let crashed = Child::spawn(&mut sh("echo bad config >&2; exit 3")).unwrap();
    let error = crashed
        .wait_line(ready::line("listening").within("20s"))
        .unwrap_err();
    assert!(
        error.to_string().contains("exited with exit status: 3"),
        "{error}"
    );
}

/// A child that prints its line and exits at once (a launcher that prints a pid, a one-shot
/// step): the probe reads all it printed before it reports the exit, so the line is found.
#[test]
fn a_line_printed_just_before_exiting_is_found() {
    for _ in 0..100 {
        let child = Child::spawn(Command::new("sh").args(["-c", "echo 4242"])).unwrap();
        let line = child
            .wait_line(ready::line("4242"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(line.trim(), "4242");
    }
}
