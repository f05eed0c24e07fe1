//! The machine-wide socket budget: a weighted semaphore across threads and processes.
//!
//! A holder publishes its permit count as a [`holder`] record in `budget/` while it holds
//! permits. Permits in use are this process's own count (kept in memory) plus the sum over
//! other processes' live records; a dead process's records are removed by the reader, so a
//! holder killed with SIGKILL frees its permits as soon as the next acquirer looks. Acquirers
//! pass one by one through a gate (an OS lock taken through [`wait::Lock`](crate::wait::Lock),
//! so they queue in memory and one per process waits in the kernel), and the one at the gate
//! polls until enough permits are free: a large request is never overtaken by a stream of
//! small ones.
//!
//! Counting other processes' permits means listing `budget/` and reading their records, which
//! costs more than the rest of a test's entry. So every acquirer, still at the gate, adds one
//! to a *generation*, and a process remembers what it counted at which generation: at an
//! unchanged generation nobody else took permits since (only the gate holder takes any), so the
//! remembered count is an upper bound and the listing is skipped when the request fits under
//! it. Releases and deaths only lower the truth below the bound; a request that does not fit
//! under it counts again, and so does any request once the count is a second old ([`RECOUNT`]).
//!
//! The generation is the size of `budget/generation`: advancing it appends a byte, and one
//! `statx` reads it together with the link count that tells the file was removed, where a
//! number in the file would take a read besides. A size never goes back, so a generation seen
//! again is the same one (no ABA); a file grown to [`RENEW_AT`] is replaced by an empty one,
//! which every process holding the old one sees by its link count, as it sees a temp cleaner's
//! removal.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::holder::{self, Claim, Holder, Record};
use crate::wait::{self, Lock, Mode, Wait};
use crate::{env, lockdir, sys, Error};

/// Permits held until dropped.
#[derive(Debug)]
pub(crate) struct Permits {
    count: u32,
    record: Option<Record>,
}

impl Drop for Permits {
    fn drop(&mut self) {
        // Empty the record before the count drops, so nobody sees the permits free twice.
        drop(self.record.take());
        let mut held = own_held();
        *held = held.saturating_sub(self.count);
        drop(held);
        wait::released();
    }
}

/// The permits this process's holders hold.
fn own_held() -> MutexGuard<'static, u32> {
    static HELD: Mutex<u32> = Mutex::new(0);
    HELD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The budget's gate and generation files.
#[derive(Debug)]
struct Files {
    gate: PathBuf,
    generation: PathBuf,
}

/// Worked out once per process: a test's entry should not format paths.
fn files() -> Result<&'static Files, Error> {
    static FILES: OnceLock<Files> = OnceLock::new();
    if let Some(files) = FILES.get() {
        return Ok(files);
    }
    let dir = lockdir::subdir("budget")?;
    Ok(FILES.get_or_init(|| Files {
        gate: dir.join("gate"),
        generation: dir.join("generation"),
    }))
}

/// How long a remembered count is trusted at most. A generation file removed or replaced (a
/// temp cleaner) is seen at once, by its link count; should it be moved instead, a process
/// still reading it would see nobody take permits, and that lasts no longer than this.
const RECOUNT: Duration = Duration::from_secs(1);

/// The generation at which the generation file is replaced by an empty one: a byte per
/// acquisition on the machine, so a file of at most 1 MiB, renewed once a million tests.
const RENEW_AT: u64 = 1 << 20;

/// Other processes' permits as this process last counted them. Used only at the gate.
#[derive(Debug)]
struct Counted {
    /// `budget/generation`, kept open for appending.
    file: Option<File>,
    count: Option<Count>,
}

#[derive(Debug)]
struct Count {
    /// The generation counted at, moved on by this process's own acquisitions since.
    generation: u64,
    others: u32,
    when: Instant,
}

fn counted() -> MutexGuard<'static, Counted> {
    static COUNTED: Mutex<Counted> = Mutex::new(Counted {
        file: None,
        count: None,
    });
    COUNTED.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Counted {
    /// The others' permits as remembered, while that still bounds them: nobody took any since
    /// (the generation is the one counted at), and the count is recent.
    fn remembered(&self) -> io::Result<Option<u32>> {
        let Some(count) = &self.count else {
            return Ok(None);
        };
        if count.when.elapsed() >= RECOUNT {
            return Ok(None);
        }
        let Some(file) = &self.file else {
            return Ok(None);
        };
        let (links, generation) = sys::links_and_size(file)?;
        // Removed (a temp cleaner) or renewed: the others now tell a new file that they took
        // permits.
        Ok((links > 0 && generation == count.generation).then_some(count.others))
    }

    /// Counts the others' permits, remembering the generation, read from the generation file
    /// at `path` (opened again if it was replaced).
    fn recount(&mut self, path: &Path) -> io::Result<u32> {
        if !self
            .file
            .as_ref()
            .is_some_and(|file| sys::is_file_at(file, path))
        {
            self.file = Some(open(path)?);
        }
        let file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
        let (_, generation) = sys::links_and_size(file)?;
        let others = usage(false).others;
        self.count = Some(Count {
            generation,
            others,
            when: Instant::now(),
        });
        Ok(others)
    }

    /// Tells every other process that permits were taken: the generation they counted at has
    /// passed. Ours moves with it, since what we counted of the others still holds. A file grown
    /// to [`RENEW_AT`] is replaced by a new one at `path` first (we are at the gate: nobody else
    /// uses it meanwhile).
    fn advance(&mut self, path: &Path) -> io::Result<()> {
        let Some(count) = &mut self.count else {
            return Err(io::ErrorKind::NotFound.into());
        };
        if count.generation >= RENEW_AT {
            // Unlinked, the old file tells whoever still holds it to count again.
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            self.file = Some(open(path)?);
            count.generation = 0;
        }
        let mut file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
        file.write_all(&[0])?;
        count.generation += 1;
        Ok(())
    }
}

/// Opens (creating) the generation file, like a lock file: for appending, and renewed when old
/// (nobody may have taken permits for days).
fn open(path: &Path) -> io::Result<File> {
    lockdir::lock_file(path).map_err(|e| io::Error::new(io::ErrorKind::Other, e))
}

/// The budget in force: `ISOLATE_SOCKET_BUDGET`, or half of this process's soft open-file
/// limit (at least 64), leaving the other half for everything else a test opens. Read once
/// per process: the environment is set before the tests start.
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
    // Read once per process, like `ISOLATE_TIMEOUT`: the environment is set before a test
    // process starts, and each read scans all of it under its lock.
    static BUDGET: OnceLock<Result<u32, String>> = OnceLock::new();
    BUDGET
        .get_or_init(|| match env::socket_budget() {
            Ok(Some(budget)) => Ok(budget),
            Ok(None) => {
                // Unlimited counts as the largest budget the attribute accepts.
                let limit = sys::open_file_limit().unwrap_or(u64::MAX);
                Ok(u32::try_from(limit / 2)
                    .unwrap_or(u32::MAX)
                    .clamp(64, 1 << 20))
            }
            Err(e) => Err(e.to_string()),
        })
        .clone()
        .map_err(Error::config)
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
    let files = files()?;
    let Some(gate) = Lock::take(&files.gate, Mode::Exclusive, Wait::Until(deadline))? else {
        return Err(timeout_error(count, budget, timeout));
    };
    let io = |e| Error::io(format!("cannot use `{}`", files.generation.display()), e);
    let mut counted = counted();
    // At the gate: wait for enough permits. Holders in other processes leave without telling
    // us, so this polls; only tests that exhaust the budget wait here.
    let fits = || {
        let own = *own_held();
        let fits = |others: u32| others.saturating_add(own).saturating_add(count) <= budget;
        if counted.remembered()?.is_some_and(fits) {
            return Ok(Some(()));
        }
        let others = counted.recount(&files.generation)?;
        Ok(fits(others).then_some(()))
    };
    if wait::poll_until(deadline, fits).map_err(io)?.is_none() {
        gate.release_after_timeout();
        return Err(timeout_error(count, budget, timeout));
    }
    let record = holder::publish("budget", &Holder::me(test, Claim::Permits(count)))?;
    // Before the gate goes, so that no process counts at this generation without our permits.
    counted.advance(&files.generation).map_err(io)?;
    *own_held() += count;
    drop(counted);
    drop(gate);
    Ok(Permits {
        count,
        record: Some(record),
    })
}

/// Who holds permits, as the records say.
#[derive(Debug, Default)]
struct Usage {
    /// Permits held by other live processes (this process counts its own in memory).
    others: u32,
    /// Every live holder of permits read (this process's too when all are).
    holders: Vec<(Holder, u32)>,
}

/// Who holds permits; this process's own holders only when `all` (its count is in memory).
fn usage(all: bool) -> Usage {
    let mut usage = Usage::default();
    let holders = if all {
        holder::scan("budget")
    } else {
        holder::scan_others("budget")
    };
    for holder in holders {
        if let Claim::Permits(count) = holder.claim {
            if holder.pid != holder::own_pid() {
                usage.others = usage.others.saturating_add(count);
            }
            usage.holders.push((holder, count));
        }
    }
    usage
}

fn timeout_error(count: u32, budget: u32, timeout: Duration) -> Error {
    let usage = usage(true);
    let used: u32 = usage.holders.iter().map(|(_, count)| count).sum();
    let holders: Vec<Holder> = usage
        .holders
        .into_iter()
        .map(|(holder, _)| holder)
        .collect();
    Error::timeout(format!(
        "timed out after {:.1}s waiting for {count} permits of the socket budget ({used} of {budget} in use, {}); \
         raise the wait with `timeout = \"...\"` or `{}`, or the budget with `{}`",
        timeout.as_secs_f64(),
        holder::describe_all(&holders),
        env::TIMEOUT,
        env::SOCKET_BUDGET,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uncounted() -> Counted {
        Counted {
            file: None,
            count: None,
        }
    }

    /// Two processes' counts over one generation file: one that takes permits makes the
    /// other's count stale, and so does one that renews the file, even when the new file grows
    /// back to the very generation the other counted at.
    #[test]
    fn a_renewed_generation_file_makes_every_count_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generation");
        let (mut first, mut second) = (uncounted(), uncounted());
        first.recount(&path).unwrap();
        second.recount(&path).unwrap();
        assert!(first.remembered().unwrap().is_some());
        second.advance(&path).unwrap();
        assert_eq!(first.remembered().unwrap(), None);
        assert!(second.remembered().unwrap().is_some());

        // Both count at a generation due for renewal; the second renews and advances until
        // the new file is as long as the old one was.
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(RENEW_AT + 1)
            .unwrap();
        first.recount(&path).unwrap();
        second.recount(&path).unwrap();
        second.advance(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 1);
        assert!(second.remembered().unwrap().is_some());
        assert_eq!(first.remembered().unwrap(), None);
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .set_len(RENEW_AT + 1)
            .unwrap();
        assert_eq!(first.remembered().unwrap(), None);
        first.recount(&path).unwrap();
        assert!(first.remembered().unwrap().is_some());
    }
}
