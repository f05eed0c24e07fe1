//! Runs the child processes: each in its own process group, registered so that Ctrl-C (or a
//! deadline) ends it with everything it started.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The process groups running now.
static GROUPS: Mutex<Vec<u32>> = Mutex::new(Vec::new());
/// Set by Ctrl-C: no new child starts, and the run ends after the round.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler (once per process; later calls keep the first).
pub(crate) fn on_interrupt_stop_children() {
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        if let Ok(groups) = GROUPS.lock() {
            groups.iter().for_each(|&g| signal_group("TERM", g));
        }
    });
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn signal_group(signal: &str, group: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}

/// How long a child has to end its own children after `SIGTERM`: nextest runs each test in a
/// process group of its own, which a kill of the child's group misses, and sends them
/// `SIGKILL` 10 s (its default grace) after `SIGTERM`.
const TERM_GRACE: Duration = Duration::from_secs(12);

/// Ends `child` and its process group: `SIGTERM` first, so that a runner stops the processes
/// it started in groups of their own; `SIGKILL` for whatever is left after the grace.
fn stop(child: &mut Child) {
    let group = child.id();
    signal_group("TERM", group);
    let end = Instant::now() + TERM_GRACE;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    signal_group("KILL", group);
    let _ = child.wait();
}

/// What a child printed, and whether it was ended at its deadline or by Ctrl-C.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) killed: bool,
}

impl Ran {
    /// Why a test this run never reported failed: the run was stopped, or it just never said.
    pub(crate) fn unreported(&self) -> super::FailureKind {
        if self.killed {
            super::FailureKind::Timeout
        } else {
            super::FailureKind::NotReported
        }
    }
}

/// How long processes left behind may hold a finished child's pipes.
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// Runs `command` to its end, or kills its whole process group at `deadline` or on Ctrl-C.
pub(crate) fn run(mut command: Command, deadline: Duration) -> Ran {
    if interrupted() {
        return Ran {
            killed: true,
            ..Ran::default()
        };
    }
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let Ok(mut child) = command.spawn() else {
        return Ran::default();
    };
    let group = child.id();
    if let Ok(mut groups) = GROUPS.lock() {
        groups.push(group);
    }
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let end = Instant::now() + deadline;
    let mut killed = false;
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() > end || interrupted() {
            stop(&mut child);
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // A process the child left behind keeps running (an observer may count it), unless it
    // holds the output pipes open: then it goes, so reading ends.
    let grace = Instant::now() + PIPE_GRACE;
    while !(stdout.is_finished() && stderr.is_finished()) {
        if Instant::now() > grace {
            signal_group("KILL", group);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if let Ok(mut groups) = GROUPS.lock() {
        groups.retain(|&g| g != group);
    }
    Ran {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        killed,
    }
}
