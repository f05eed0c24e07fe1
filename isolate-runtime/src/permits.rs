//! The machine-wide socket budget: a weighted semaphore across threads and processes.
//!
//! Each holder keeps a record file `h-<pid>-<uuid>` (its permit count inside) locked for as long
//! as it holds permits. Permits in use are the sum over record files whose lock is held: a
//! record whose lock can be taken belongs to a holder that died, and is removed. So a holder
//! killed with SIGKILL frees its permits as soon as the next acquirer looks. Acquirers pass one
//! by one through a gate (a blocking OS lock, first come first served by the kernel's queue),
//! and the one at the gate waits until enough permits are free: a large request is never
//! overtaken by a stream of small ones.

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::holder::{self, Holder};
use crate::wait::{self, Mode, WaitError};
use crate::{Error, env, lockdir};

/// Permits held until dropped.
#[derive(Debug)]
pub(crate) struct Permits {
    record: PathBuf,
    _lock: File,
}

impl Drop for Permits {
    fn drop(&mut self) {
        // Remove before the lock is released, so no acquirer counts a stale record.
        let _ = fs::remove_file(&self.record);
    }
}

/// The budget in force: `ISOLATE_SOCKET_BUDGET`, or half of this process's soft open-file
/// limit (at least 64), leaving the other half for everything else a test opens.
///
/// # Errors
///
/// Fails when `ISOLATE_SOCKET_BUDGET` is set to something that is not a positive number.
///
/// # Examples
///
/// ```
/// let budget = isolate_runtime::socket_budget()?;
/// assert!(budget >= 64);
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn socket_budget() -> Result<u32, Error> {
    static DEFAULT: OnceLock<u32> = OnceLock::new();
    if let Some(budget) = env::socket_budget()? {
        return Ok(budget);
    }
    Ok(*DEFAULT.get_or_init(|| (open_file_limit().unwrap_or(1024) / 2).max(64)))
}

/// The soft `RLIMIT_NOFILE`, read from `/proc/self/limits` (Linux).
fn open_file_limit() -> Option<u32> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Takes `count` permits, waiting until `deadline`.
pub(crate) fn take(
    count: u32,
    test: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<Permits, Error> {
    let budget = socket_budget()?;
    if count > budget {
        return Err(Error::config(format!(
            "`max_sockets = {count}` asks for more than the whole socket budget of {budget} permits; \
             lower `max_sockets` or raise `{}`",
            env::SOCKET_BUDGET
        )));
    }
    let dir = lockdir::subdir("budget")?;
    let gate_path = dir.join("gate");
    let gate = lockdir::lock_file(&gate_path)?;
    let io = |e| Error::io(format!("cannot lock `{}`", gate_path.display()), e);
    let gate = if wait::try_lock(&gate, Mode::Exclusive).map_err(io)? {
        gate
    } else {
        match wait::until(deadline, move || {
            wait::lock(&gate, Mode::Exclusive).map(|()| gate)
        }) {
            Ok(gate) => gate,
            Err(WaitError::Io(e)) => return Err(io(e)),
            Err(WaitError::TimedOut) => {
                return Err(timeout_error(count, budget, timeout, &live_holders(&dir).1));
            }
        }
    };
    // At the gate: wait for enough permits. Holders leave without telling anyone, so this polls,
    // starting at 1ms and backing off to 20ms; only tests that exhaust the budget get here.
    let mut pause = Duration::from_millis(1);
    loop {
        let (used, holders) = live_holders(&dir);
        if used.saturating_add(count) <= budget {
            let permits = create_record(&dir, count, test)?;
            drop(gate);
            return Ok(permits);
        }
        if Instant::now() + pause > deadline {
            return Err(timeout_error(count, budget, timeout, &holders));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

fn create_record(dir: &Path, count: u32, test: &str) -> Result<Permits, Error> {
    let record = dir.join(format!(
        "h-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let lock = lockdir::lock_file(&record)?;
    lock.lock()
        .map_err(|e| Error::io(format!("cannot lock `{}`", record.display()), e))?;
    holder::record(&lock, &Holder::me(test, &count.to_string()));
    Ok(Permits {
        record,
        _lock: lock,
    })
}

/// Permits held by live holders, and who they are. Records of dead holders are removed.
fn live_holders(dir: &Path) -> (u32, Vec<Holder>) {
    let mut used = 0u32;
    let mut holders = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return (0, holders);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("h-") {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        match wait::try_lock(&file, Mode::Shared) {
            // Nobody holds it: its holder died (records are locked before they are written).
            Ok(true) => {
                let _ = fs::remove_file(&path);
            }
            Ok(false) => {
                let mut text = String::new();
                let _ = (&file).read_to_string(&mut text);
                if let Some(holder) = holder::read_line(&text) {
                    used = used.saturating_add(holder.detail.parse().unwrap_or(0));
                    holders.push(holder);
                }
            }
            Err(_) => {}
        }
    }
    (used, holders)
}

fn timeout_error(count: u32, budget: u32, timeout: Duration, holders: &[Holder]) -> Error {
    let used: u32 = holders
        .iter()
        .map(|h| h.detail.parse::<u32>().unwrap_or(0))
        .sum();
    Error::timeout(format!(
        "timed out after {:.1}s waiting for {count} permits of the socket budget ({used} of {budget} in use, {}); \
         raise the wait with `timeout = \"...\"` or `{}`, or the budget with `{}`",
        timeout.as_secs_f64(),
        holder::describe_all(holders),
        env::TIMEOUT,
        env::SOCKET_BUDGET,
    ))
}
