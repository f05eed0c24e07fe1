//! The machine-wide socket budget: a weighted semaphore across threads and processes.
//!
//! Each process keeps record files `h-<pid>-<uuid>-<n>` locked for as long as it lives, one per
//! permit holder it has at once, and writes a holder's permit count into one while the holder
//! holds permits (an empty record holds none). Permits in use are this process's own count plus
//! the sum over other processes' records whose lock is held: a record whose lock can be taken
//! belongs to a process that died, and is removed. So a holder killed with SIGKILL frees its
//! permits as soon as the next acquirer looks, and a test that ends costs one truncation, not a
//! file to create and remove. Acquirers pass one by one through a gate (a blocking OS lock, first
//! come first served by the kernel's queue), and the one at the gate waits until enough permits
//! are free: a large request is never overtaken by a stream of small ones.

use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::holder::{self, Holder};
use crate::wait::{self, Mode, WaitError};
use crate::{env, lockdir, Error};

/// Permits held until dropped.
#[derive(Debug)]
pub(crate) struct Permits {
    count: u32,
    record: Option<File>,
}

impl Drop for Permits {
    fn drop(&mut self) {
        let Some(record) = self.record.take() else {
            return;
        };
        // Empty the record before the count drops, so nobody sees the permits free twice.
        let emptied = record.set_len(0).is_ok();
        let mut own = own_records();
        own.held = own.held.saturating_sub(self.count);
        if emptied {
            own.idle.push(record);
        }
    }
}

/// This process's records: the idle ones, and the permits its holders hold.
#[derive(Debug, Default)]
struct OwnRecords {
    idle: Vec<File>,
    created: u32,
    held: u32,
}

fn own_records() -> std::sync::MutexGuard<'static, OwnRecords> {
    static OWN: Mutex<OwnRecords> = Mutex::new(OwnRecords {
        idle: Vec::new(),
        created: 0,
        held: 0,
    });
    OWN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The prefix of this process's record names: the uuid tells us apart from a dead process
/// whose pid we were given.
fn own_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| {
        format!(
            "h-{}-{}-",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        )
    })
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
                return Err(timeout_error(count, budget, timeout, &scan(&dir, true).1));
            }
        }
    };
    // At the gate: wait for enough permits. Holders leave without telling anyone, so this polls,
    // starting at 1ms and backing off to 20ms; only tests that exhaust the budget get here.
    let mut pause = Duration::from_millis(1);
    loop {
        let others = scan(&dir, false).0;
        let own = own_records().held;
        if others.saturating_add(own).saturating_add(count) <= budget {
            let permits = hold(&dir, count, test)?;
            drop(gate);
            return Ok(permits);
        }
        if Instant::now() + pause > deadline {
            return Err(timeout_error(count, budget, timeout, &scan(&dir, true).1));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Writes `count` into an idle record of ours (creating one if none is idle) and counts it held.
fn hold(dir: &Path, count: u32, test: &str) -> Result<Permits, Error> {
    let idle = own_records().idle.pop();
    let record = if let Some(record) = idle {
        record
    } else {
        let n = {
            let mut own = own_records();
            own.created += 1;
            own.created
        };
        let path = dir.join(format!("{}{n}", own_prefix()));
        let record = lockdir::lock_file(&path)?;
        wait::lock(&record, Mode::Exclusive)
            .map_err(|e| Error::io(format!("cannot lock `{}`", path.display()), e))?;
        record
    };
    holder::record(&record, &Holder::me(test, &count.to_string()));
    own_records().held += count;
    Ok(Permits {
        count,
        record: Some(record),
    })
}

/// Permits held by other live processes, and the holders: of other processes, and of this one
/// too with `own_too` (for a timeout's message; our own count is kept in memory). Records of
/// dead processes are removed.
fn scan(dir: &Path, own_too: bool) -> (u32, Vec<Holder>) {
    let mut used = 0u32;
    let mut holders = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return (0, holders);
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let own = name.starts_with(own_prefix());
        if !name.starts_with("h-") || (own && !own_too) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        let unheld = if own {
            Ok(false)
        } else {
            wait::try_lock(&file, Mode::Shared)
        };
        match unheld {
            // Nobody holds it: its process died (records are locked before they are written).
            Ok(true) => {
                let _ = fs::remove_file(&path);
            }
            Ok(false) => {
                let mut text = String::new();
                let _ = (&file).read_to_string(&mut text);
                if let Some(holder) = holder::read_line(&text) {
                    if !own {
                        used = used.saturating_add(holder.detail.parse().unwrap_or(0));
                    }
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
