//! Runs the child processes: each in its own process group, registered so that Ctrl-C (or a
//! deadline) ends it with everything it started.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
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
            groups.iter().for_each(|&g| kill_group(g));
        }
    });
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn kill_group(group: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status();
}

/// What a child printed, and whether it was ended at its deadline or by Ctrl-C.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) killed: bool,
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
            kill_group(group);
            killed = true;
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // A process the child left behind keeps running (an observer may count it), unless it
    // holds the output pipes open: then it goes, so reading ends.
    let grace = Instant::now() + PIPE_GRACE;
    while !(stdout.is_finished() && stderr.is_finished()) {
        if Instant::now() > grace {
            kill_group(group);
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
