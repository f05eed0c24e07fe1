//! The watchdog (Linux): stops the process groups of a test process's children the moment the
//! test process dies, however it dies, so that what the children started (a shell's server,
//! npm's node, the binary of a `cargo run`) goes too. The parent-death signal reaches only the
//! child itself; the records of `orphans.rs` reach the rest only at the next use of isolate.
//!
//! At this process's first child, a `/bin/sh` is started with its stdin reading a pipe whose
//! write end only this process holds (close-on-exec: no process this one starts keeps it). The
//! process tells it `+ <pid> <start time>` for each child and `- <pid>` once the child's group
//! is stopped. When this process dies the kernel closes the write end; the shell reads the end
//! of the pipe and SIGKILLs every group it still knows whose leader has the recorded start
//! time, or whose leader is gone (then whatever is left of the group is ours: the kernel hands
//! out no pid while a group with that id exists). A reused pid is never signalled.
//!
//! The shell is in a process group of its own, with no terminal signals and its output to
//! `/dev/null`: a runner that kills the test's group (nextest on a timeout) does not kill it,
//! and it holds none of the test's pipes, so no runner waits for it or reports it as a leak.
//! It exits with the test process. If it is killed itself, the next child starts another one,
//! told every group still live; until then, and on other Unixes, the records are the fallback
//! (and where SIGPIPE is not ignored, so that a write to a watchdog that is gone cannot kill
//! the test process).

use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rustix::fs::OFlags;

/// The shell: collects the live groups until the end of its input, then stops them.
const SCRIPT: &str = concat!(
    super::process::started_at_sh!(),
    r#"
trap '' HUP INT
live=
while read -r op pid start; do
    case $op in
    +) live="$live $pid:$start" ;;
    -) kept=
       for entry in $live; do [ "${entry%%:*}" = "$pid" ] || kept="$kept $entry"; done
       live=$kept ;;
    esac
done
for entry in $live; do
    pid=${entry%%:*}
    if ours "$pid" "${entry#*:}"; then kill -s KILL -- "-$pid" 2>/dev/null; fi
done
"#
);

struct Watchdog {
    /// The shell and the write end of its pipe, with the pid of the process that started it: a
    /// forked copy of this process must start its own.
    shell: Option<(u32, std::process::Child)>,
    /// The live groups: `(leader pid, leader start time)`, told again to a new shell.
    live: Vec<(u32, String)>,
}

static WATCHDOG: Mutex<Watchdog> = Mutex::new(Watchdog {
    shell: None,
    live: Vec::new(),
});

fn watchdog() -> MutexGuard<'static, Watchdog> {
    WATCHDOG.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Has the group led by `pid` (whose leader started at `start`) stopped when this process
/// dies. Best effort: without a watchdog the records still stop it at the next use.
pub(crate) fn watch(pid: u32, start: &str) {
    // Elsewhere a start time (from `ps`) holds spaces, which the shell's list cannot, and the
    // shell is untested: the records stop the groups there.
    if !cfg!(any(target_os = "linux", target_os = "android")) || start.is_empty() {
        return;
    }
    let mut dog = watchdog();
    dog.live.push((pid, start.to_owned()));
    let told = dog.tell(&format!("+ {pid} {start}\n"));
    if told.is_err() {
        dog.restart();
    }
}

/// Starts this process's watchdog unless it has one, so that the first [`watch`] need not.
pub(crate) fn start_once() {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        let mut dog = watchdog();
        if !matches!(&dog.shell, Some((owner, _)) if *owner == std::process::id()) {
            dog.restart();
        }
    }
}

/// Forgets the group led by `pid`: it was stopped, and its pid may be reused.
pub(crate) fn forget(pid: u32) {
    let mut dog = watchdog();
    let before = dog.live.len();
    dog.live.retain(|(live, _)| *live != pid);
    if dog.live.len() != before {
        // A shell that misses this signals the group only if its leader has the old start time.
        let _ = dog.tell(&format!("- {pid}\n"));
    }
}

impl Watchdog {
    /// Writes one line to the shell, whole or not at all (a pipe write of at most `PIPE_BUF`
    /// bytes is atomic), never blocking: a stopped shell must not stop the test.
    fn tell(&mut self, line: &str) -> io::Result<()> {
        match &mut self.shell {
            Some((owner, shell)) if *owner == std::process::id() => shell
                .stdin
                .as_mut()
                .ok_or_else(|| io::Error::from(io::ErrorKind::BrokenPipe))?
                .write_all(line.as_bytes()),
            _ => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Starts a shell (the first, or one for a shell that is gone) and tells it every live
    /// group.
    fn restart(&mut self) {
        if let Some((owner, mut old)) = self.shell.take() {
            // Reaped if it was ours and has exited; a forked copy's is its parent's to reap.
            if owner == std::process::id() {
                drop(old.stdin.take());
                let _ = old.try_wait();
            }
        }
        if !sigpipe_ignored() {
            return;
        }
        let Ok(shell) = start() else { return };
        self.shell = Some((std::process::id(), shell));
        let lines: Vec<String> = self
            .live
            .iter()
            .map(|(pid, start)| format!("+ {pid} {start}\n"))
            .collect();
        for line in lines {
            if self.tell(&line).is_err() {
                return;
            }
        }
    }
}

/// Whether this process ignores SIGPIPE, as std makes every Rust `main` (libtest's too) do: a
/// write to a watchdog that is gone must fail, not kill the test process with SIGPIPE. Where
/// a program restored it, the records stop its children's groups.
/// Read once: a program sets it up at its start, if at all.
fn sigpipe_ignored() -> bool {
    static IGNORED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *IGNORED.get_or_init(read_sigpipe_ignored)
}

fn read_sigpipe_ignored() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let ignored = status.lines().find_map(|line| line.strip_prefix("SigIgn:"));
    let mask = ignored.and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok());
    mask.is_some_and(|mask| mask & (1 << (13 - 1)) != 0)
}

fn start() -> io::Result<std::process::Child> {
    let mut command = Command::new("/bin/sh");
    command
        .args(["-c", SCRIPT, "isolate-watchdog"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // A group of its own: a signal to the test's group (a runner's timeout, Ctrl-C) spares it.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let shell = command.spawn()?;
    if let Some(pipe) = &shell.stdin {
        rustix::fs::fcntl_setfl(pipe, OFlags::NONBLOCK)?;
    }
    Ok(shell)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shell parses what it is told: a group it was told of and not told to forget is
    /// stopped when its input ends; a forgotten one is not.
    #[test]
    fn the_shell_stops_the_groups_it_still_knows_at_the_end_of_its_input() {
        let spawn_sleeper = || {
            let mut sleeper = Command::new("sleep");
            sleeper.arg("300");
            std::os::unix::process::CommandExt::process_group(&mut sleeper, 0);
            let sleeper = sleeper.spawn().unwrap();
            let start = super::super::process::start_time(sleeper.id()).unwrap();
            (sleeper, start)
        };
        let (mut kept, kept_start) = spawn_sleeper();
        let (mut forgotten, forgotten_start) = spawn_sleeper();
        let mut shell = start().unwrap();
        let mut pipe = shell.stdin.take().unwrap();
        write!(
            pipe,
            "+ {} {kept_start}\n+ {} {forgotten_start}\n- {}\n",
            kept.id(),
            forgotten.id(),
            forgotten.id()
        )
        .unwrap();
        drop(pipe);
        shell.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while kept.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(kept.try_wait().unwrap().is_some(), "the known group lives");
        assert!(
            forgotten.try_wait().unwrap().is_none(),
            "a forgotten group died"
        );
        forgotten.kill().unwrap();
        forgotten.wait().unwrap();
        let _ = kept.wait();
    }
}
