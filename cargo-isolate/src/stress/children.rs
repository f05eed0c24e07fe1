//! Runs the child processes: each in its own process group, registered so that Ctrl-C (or a
//! deadline) ends it with everything it started.

use std::io::BufRead as _;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
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
/// it started in groups of their own; `SIGKILL` for whatever is left after the grace, also in
/// the groups of the child's descendants (a runner killed mid-cancel leaves its tests running).
fn stop(child: &mut Child) {
    let group = child.id();
    signal_group("TERM", group);
    let end = Instant::now() + TERM_GRACE;
    while matches!(child.try_wait(), Ok(None)) && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    for descendant in descendant_groups(group) {
        signal_group("KILL", descendant);
    }
    signal_group("KILL", group);
    let _ = child.wait();
}

/// The process groups of `pid`'s descendants, read from `ps` (Linux and macOS alike).
fn descendant_groups(pid: u32) -> Vec<u32> {
    let Ok(ps) = Command::new("ps")
        .args(["-A", "-o", "pid=,ppid=,pgid="])
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    let table: Vec<[u32; 3]> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace().map(|f| f.parse().ok());
            Some([fields.next()??, fields.next()??, fields.next()??])
        })
        .collect();
    let mut found = vec![pid];
    let mut groups = Vec::new();
    let mut next = 0;
    while let Some(&parent) = found.get(next) {
        next += 1;
        for &[child, ppid, group] in &table {
            if ppid == parent && !found.contains(&child) {
                found.push(child);
                if !groups.contains(&group) {
                    groups.push(group);
                }
            }
        }
    }
    groups
}

/// What a child printed, and whether it was ended at its deadline or by Ctrl-C.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) killed: bool,
    /// How much of stdout and of stderr had been read when the child was told to stop: what
    /// follows was written while it was stopped.
    at_stop: (usize, usize),
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

    /// stderr up to the moment the child was told to stop (all of it when it was not).
    pub(crate) fn stderr_before_stop(&self) -> &str {
        if self.killed {
            self.stderr.get(..self.at_stop.1).unwrap_or(&self.stderr)
        } else {
            &self.stderr
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
    // Line by line into a shared buffer, so that what was read by the time of the stop is known.
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        let text = Arc::new(Mutex::new(String::new()));
        let into = Arc::clone(&text);
        let reader = std::thread::spawn(move || {
            let Some(pipe) = pipe else { return };
            let mut pipe = std::io::BufReader::new(pipe);
            let mut line = Vec::new();
            while matches!(pipe.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                if let Ok(mut text) = into.lock() {
                    text.push_str(&String::from_utf8_lossy(&line));
                }
                line.clear();
            }
        });
        (reader, text)
    };
    let (stdout_reader, stdout) = read(child.stdout.take().map(|p| Box::new(p) as _));
    let (stderr_reader, stderr) = read(child.stderr.take().map(|p| Box::new(p) as _));
    let length = |text: &Mutex<String>| text.lock().map_or(0, |t| t.len());
    let end = Instant::now() + deadline;
    let mut killed = false;
    let mut at_stop = (0, 0);
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() > end || interrupted() {
            at_stop = (length(&stdout), length(&stderr));
            stop(&mut child);
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // A process the child left behind keeps running (an observer may count it), unless it
    // holds the output pipes open: then it goes, so reading ends.
    let grace = Instant::now() + PIPE_GRACE;
    while !(stdout_reader.is_finished() && stderr_reader.is_finished()) {
        if Instant::now() > grace {
            signal_group("KILL", group);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if let Ok(mut groups) = GROUPS.lock() {
        groups.retain(|&g| g != group);
    }
    let _ = (stdout_reader.join(), stderr_reader.join());
    let take = |text: &Mutex<String>| {
        text.lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    };
    Ran {
        stdout: take(&stdout),
        stderr: take(&stderr),
        killed,
        at_stop,
    }
}
