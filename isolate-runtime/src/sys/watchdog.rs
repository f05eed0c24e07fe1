//! The watchdog (Linux): stops the process groups of a test process's children the moment the
//! test process dies, however it dies, so that what the children started (a shell's server,
//! npm's node, the binary of a `cargo run`) goes too. The parent-death signal reaches only the
//! child itself; the records of `orphans.rs` reach the rest only at the next use of isolate.
//!
//! At this process's first child, a `/bin/sh` is started with its stdin reading a pipe whose
//! write end only this process holds (close-on-exec: no process this one starts keeps it). The
//! process tells it `+ <pid> <start time>` for each child and `- <pid> <start time>` once the
//! child's group is stopped (the start time too: the pid may be a newer child's by then). When this process dies the kernel closes the write end; the shell reads the end
//! of the pipe and SIGKILLs every group it still knows whose leader has the recorded start
//! time, or whose leader is gone (then whatever is left of the group is ours: the kernel hands
//! out no pid while a group with that id exists). A reused pid is never signalled.
//!
//! The shell is in a process group of its own, with no terminal signals and its output to
//! `/dev/null`: a runner that kills the test's group (nextest on a timeout) does not kill it,
//! and it holds none of the test's pipes, so no runner waits for it or reports it as a leak.
//! It exits with the test process. If it is killed itself, or cannot keep up (its pipe full: a
//! line it missed could leave it a group whose pid is a stranger's by our death), the next line
//! replaces it (killing it first) by another one told every group still live; until then, and on other Unixes, the records are the fallback
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
       for entry in $live; do [ "$entry" = "$pid:$start" ] || kept="$kept $entry"; done
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
    /// The process whose watchdog this is: a forked copy of it inherits its parent's, which
    /// are not the copy's to tell or to keep.
    owner: u32,
    /// The shell, with the write end of its pipe.
    shell: Option<std::process::Child>,
    /// The live groups: `(leader pid, leader start time)`, told again to a new shell.
    live: Vec<(u32, String)>,
}

static WATCHDOG: Mutex<Watchdog> = Mutex::new(Watchdog {
    owner: 0,
    shell: None,
    live: Vec::new(),
});

/// This process's watchdog.
fn watchdog() -> MutexGuard<'static, Watchdog> {
    let mut dog = WATCHDOG.lock().unwrap_or_else(PoisonError::into_inner);
    dog.own();
    dog
}

/// Has the group led by `pid` (whose leader started at `start`) stopped when this process
/// dies. Best effort: without a watchdog the records still stop it at the next use.
pub(crate) fn watch(pid: u32, start: &str) {
    // Elsewhere a start time (from `ps`) holds spaces, which the shell's list cannot, and the
    // shell is untested: the records stop the groups there.
    if !cfg!(any(target_os = "linux", target_os = "android")) || start.is_empty() {
        return;
    }
    watchdog().watch(pid, start);
}

/// Starts this process's watchdog unless it has one, so that the first [`watch`] need not.
pub(crate) fn start_once() {
    if cfg!(any(target_os = "linux", target_os = "android")) {
        let mut dog = watchdog();
        if dog.shell.is_none() {
            dog.restart();
        }
    }
}

/// Forgets the group led by `pid` that started at `start`: it was stopped, and its pid may be
/// reused (by a child of ours too, watched meanwhile under its own start time).
pub(crate) fn forget(pid: u32, start: &str) {
    watchdog().forget(pid, start);
}

/// Whether this process's watchdog knows the group led by `pid`, started at `start`.
#[cfg(test)]
pub(crate) fn watches(pid: u32, start: &str) -> bool {
    let dog = watchdog();
    dog.shell.is_some() && dog.live.iter().any(|(p, s)| *p == pid && s == start)
}

impl Watchdog {
    /// Drops what a forked copy of this process inherited: its parent's shell (closing the
    /// copy of its pipe) and its parent's groups, which would be killed when the copy dies.
    fn own(&mut self) {
        let me = std::process::id();
        if self.owner != me {
            self.owner = me;
            self.shell = None;
            self.live.clear();
        }
    }

    fn watch(&mut self, pid: u32, start: &str) {
        self.live.push((pid, start.to_owned()));
        if self.tell(&format!("+ {pid} {start}\n")).is_err() {
            self.restart();
        }
    }

    fn forget(&mut self, pid: u32, start: &str) {
        let Some(at) = self.live.iter().position(|(p, s)| *p == pid && s == start) else {
            return;
        };
        self.live.swap_remove(at);
        // A shell that missed it would kill the group once its leader is gone, when its pid
        // may be a stranger's: it is replaced by one told only the live groups.
        if self.tell(&format!("- {pid} {start}\n")).is_err() {
            self.restart();
        }
    }

    /// Writes one line to the shell, whole or not at all (a pipe write of at most `PIPE_BUF`
    /// bytes is atomic), never blocking: a stopped shell must not stop the test.
    fn tell(&mut self, line: &str) -> io::Result<()> {
        self.shell
            .as_mut()
            .and_then(|shell| shell.stdin.as_mut())
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?
            .write_all(line.as_bytes())
    }

    /// Starts a shell (the first, or one for a shell that is gone or cannot keep up) and tells
    /// it every live group.
    fn restart(&mut self) {
        if let Some(mut old) = self.shell.take() {
            // It may still run, only too slow to read (stopped, starved): killed before its
            // pipe closes, lest it take the end of its input for our death and kill the live
            // groups.
            let _ = old.kill();
            let _ = old.wait();
        }
        if !sigpipe_ignored() {
            return;
        }
        let Ok(shell) = start() else { return };
        self.shell = Some(shell);
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

    /// A sleeper in a process group of its own, and its start time.
    fn sleeper() -> (std::process::Child, String) {
        let mut sleeper = Command::new("sleep");
        sleeper.arg("300");
        std::os::unix::process::CommandExt::process_group(&mut sleeper, 0);
        let sleeper = sleeper.spawn().unwrap();
        let start = super::super::process::start_time(sleeper.id()).unwrap();
        (sleeper, start)
    }

    /// Waits (30 s at most) until `done` holds.
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !done() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        done()
    }

    /// Stops and reaps a sleeper of ours (unreaped, its pid is still ours), and whether it was
    /// still running.
    fn end(mut sleeper: std::process::Child) -> bool {
        let running = sleeper.try_wait().unwrap().is_none();
        let _ = sleeper.kill();
        sleeper.wait().unwrap();
        running
    }

    /// The shell parses what it is told: a group it was told of and not told to forget is
    /// stopped when its input ends; a forgotten one is not.
    #[test]
    fn the_shell_stops_the_groups_it_still_knows_at_the_end_of_its_input() {
        let (mut kept, kept_start) = sleeper();
        let (forgotten, forgotten_start) = sleeper();
        let mut shell = start().unwrap();
        let mut pipe = shell.stdin.take().unwrap();
        write!(
            pipe,
            "+ {} {kept_start}\n+ {} {forgotten_start}\n- {} {forgotten_start}\n",
            kept.id(),
            forgotten.id(),
            forgotten.id()
        )
        .unwrap();
        drop(pipe);
        shell.wait().unwrap();
        let kept_died = eventually(|| kept.try_wait().unwrap().is_some());
        let forgotten_lives = end(forgotten);
        end(kept);
        assert!(kept_died, "the known group lives");
        assert!(forgotten_lives, "a forgotten group died");
    }

    /// A shell that cannot keep up (here: stopped, its pipe full) is replaced by one told every
    /// live group; the one replaced must not take the end of its input for the death of the
    /// test process and kill the groups it knew, which still run.
    #[test]
    fn a_shell_that_cannot_keep_up_is_replaced_without_killing_the_live_groups() {
        use rustix::process::{kill_process, Pid, Signal};
        let (first, first_start) = sleeper();
        let (second, second_start) = sleeper();
        let mut dog = Watchdog {
            owner: std::process::id(),
            shell: None,
            live: Vec::new(),
        };
        dog.restart();
        dog.watch(first.id(), &first_start);
        let shell = dog.shell.as_mut().unwrap();
        let old = shell.id();
        let old_start = super::super::process::start_time(old).unwrap();
        let old_pid = Pid::from_child(shell);
        kill_process(old_pid, Signal::STOP).unwrap();
        let pipe = shell.stdin.as_mut().unwrap();
        // Lines the shell ignores, until the pipe is full.
        while pipe.write_all(b"#\n").is_ok() {}
        dog.watch(second.id(), &second_start);
        // Resumed if it is still our (unreaped) shell: it reads its input to the end.
        let ours = || super::super::process::start_time(old).as_deref() == Some(&*old_start);
        let zombie = || {
            std::fs::read_to_string(format!("/proc/{old}/stat"))
                .is_ok_and(|stat| stat.rsplit(") ").next().unwrap_or("").starts_with('Z'))
        };
        if ours() {
            kill_process(old_pid, Signal::CONT).unwrap();
        }
        let old_ended = eventually(|| !ours() || zombie());
        let (mut first, mut second) = (first, second);
        let first_lived = first.try_wait().unwrap().is_none();
        // The new shell knows both: the end of its input stops both.
        let mut new = dog.shell.take().unwrap();
        let new_is_another = new.id() != old;
        drop(new.stdin.take());
        new.wait().unwrap();
        let both_stopped = eventually(|| {
            first.try_wait().unwrap().is_some() && second.try_wait().unwrap().is_some()
        });
        end(first);
        end(second);
        assert!(new_is_another, "the stopped shell was kept");
        assert!(first_lived, "the replaced shell killed a live group");
        assert!(both_stopped, "the new shell was not told every live group");
        assert!(old_ended, "the replaced shell still runs");
    }

    /// A forked copy of a process with children must not kill its parent's children's
    /// groups when it dies: it inherited their list, not them.
    #[test]
    fn a_forked_copy_does_not_watch_its_parents_groups() {
        let (parents, parents_start) = sleeper();
        let (mut own, own_start) = sleeper();
        let mut dog = Watchdog {
            // The parent's.
            owner: std::process::id().wrapping_add(1),
            shell: None,
            live: vec![(parents.id(), parents_start)],
        };
        dog.own();
        dog.watch(own.id(), &own_start);
        let mut shell = dog.shell.take().unwrap();
        drop(shell.stdin.take());
        shell.wait().unwrap();
        let own_stopped = eventually(|| own.try_wait().unwrap().is_some());
        let parents_lives = end(parents);
        end(own);
        assert!(own_stopped, "the copy's own group lives");
        assert!(parents_lives, "the copy killed its parent's group");
    }
}
