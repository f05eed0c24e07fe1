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
//! costs more than the rest of a test's entry. So every count, at the gate, adds one to a
//! *generation*, and the process that counted remembers its count and the generation it left:
//! while the generation is still that one, nobody else counted since, and so nobody else took
//! permits since (only the gate holder takes any, and only on a count of its own, made or
//! still trusted; a count is trusted only at the generation its process left, and two
//! processes never leave the same one). The remembered count is then an upper bound, and a
//! request that fits under it takes its permits without listing, and without touching the
//! generation either: a process whose count is older sees the generation has moved and counts
//! again, our new record included. Releases and deaths only lower the truth below the bound; a
//! request that does not fit under it counts again, and so does any request once the count is a
//! second old ([`RECOUNT`]).
//!
//! The generation is the size of `budget/generation`: a count appends a byte, and one `statx`
//! of the name (in `budget/`, kept open) reads the size together with which file has it now (one removed, moved
//! away or renewed since our count is not the one the others tell that they counted), where a
//! number in the file would take a read besides. A size never goes back (isolate never
//! truncates the file), so a generation seen again is the same one (no ABA); a file grown to
//! [`RENEW_AT`] is replaced by an empty one, which every process that counted at the old one
//! sees, as it sees a temp cleaner's removal.
//!
//! A take checks the generation after publishing its record, not before: unmoved, nobody
//! counted since the count it took on, and every later count sees the record; moved, the
//! record goes and the take counts again. So two takes never both miss each other, even past
//! two gates: the gate is a lock file, and one a temp cleaner removed while a process is at the
//! gate is passed by whoever opens the path next, beside that process (later waiters are not:
//! [`wait`] grants only a file that still has a name).

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
        generation: dir.join(GENERATION),
    }))
}

/// The generation file's name in `budget/`.
const GENERATION: &str = "generation";

/// How long a remembered count is trusted at most. A generation file removed, moved or
/// replaced is seen at once, by its name; one whose size someone else set back (truncated)
/// could show a generation seen before, and a count that old is not taken on any more.
const RECOUNT: Duration = Duration::from_secs(1);

/// The generation at which the generation file is replaced by an empty one: a byte per count
/// on the machine (at most one per acquisition), so a file of at most 1 MiB, renewed at most
/// once a million tests.
const RENEW_AT: u64 = 1 << 20;

/// Other processes' permits as this process last counted them. Used only at the gate.
#[derive(Debug)]
struct Counted {
    /// `budget/generation`, kept open for appending.
    file: Option<File>,
    /// `budget/`, as it was when the file was opened: the generation is looked up in it.
    dir: Option<File>,
    count: Option<Count>,
}

#[derive(Debug)]
struct Count {
    /// The generation file this process's count was made at.
    file: sys::FileId,
    /// The generation this process's count left in the file.
    generation: u64,
    others: u32,
    when: Instant,
}

fn counted() -> MutexGuard<'static, Counted> {
    static COUNTED: Mutex<Counted> = Mutex::new(Counted {
        file: None,
        dir: None,
        count: None,
    });
    COUNTED.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Counted {
    /// The others' permits as remembered, if counted recently. That bounds them only while
    /// [`unmoved`](Self::unmoved): nobody else counted, and so nobody else took any, since.
    fn recent(&self) -> Option<u32> {
        let count = self.count.as_ref()?;
        (count.when.elapsed() < RECOUNT).then_some(count.others)
    }

    /// Whether the generation is still the one our last count left: nobody counted since.
    fn unmoved(&self) -> io::Result<bool> {
        let (Some(dir), Some(count)) = (&self.dir, &self.count) else {
            return Ok(false);
        };
        // Read at its name, not through our descriptor: a file removed (a temp cleaner),
        // moved away or renewed is not the one the others now tell that they counted. (A
        // directory removed is seen too: the old one names no file any more.)
        match sys::file_id_and_size_in(dir, GENERATION) {
            Ok(now) => Ok(now == (count.file, count.generation)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Counts the others' permits, moving the generation in the file at `path` on (opened
    /// again if it was replaced, renewed if it grew to [`RENEW_AT`]) and remembering where.
    fn recount(&mut self, path: &Path) -> io::Result<u32> {
        // Should this fail halfway, no count is trusted, not even at a generation of a new file
        // that happens to equal the old count's.
        self.count = None;
        let at_path = self
            .file
            .as_ref()
            .is_some_and(|file| sys::is_file_at(file, path));
        if !at_path || self.dir.is_none() {
            // Both or neither: a directory left from before would name no file of ours.
            let (dir, file) = open_in_dir(path)?;
            self.dir = Some(dir);
            self.file = Some(file);
        }
        let mut file = self.file.as_ref().ok_or(io::ErrorKind::NotFound)?;
        let (_, mut generation) = sys::links_and_size(file)?;
        if generation >= RENEW_AT {
            // Unlinked, the old file tells whoever still holds it to count again. We are at
            // the gate: nobody else uses the file meanwhile.
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            let (dir, renewed) = open_in_dir(path)?;
            self.dir = Some(dir);
            file = self.file.insert(renewed);
            generation = 0;
        }
        // Whoever counted before us now sees the generation move, and counts again.
        file.write_all(&[0])?;
        generation += 1;
        let at = sys::file_id(file)?;
        let others = usage(holder::scan_others("budget")?).held;
        self.count = Some(Count {
            file: at,
            generation,
            others,
            when: Instant::now(),
        });
        Ok(others)
    }
}

/// Opens `budget/` and then the generation file in it (created like a lock file: owner-only,
/// for appending, renewed when old, as nobody may have taken permits for days) through the
/// directory held open. In this order a removal (`rm -rf` while tests run) can only fail an
/// open, and the directory is made again; the file first and then its directory by path failed
/// whenever the removal fell between the two, which a loop of `rm -rf` did every time.
fn open_in_dir(path: &Path) -> io::Result<(File, File)> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Err(io::ErrorKind::NotFound.into());
    };
    let mut tries = 0;
    loop {
        let opened = sys::open_dir(dir).and_then(|held| {
            let file = sys::open_lock_file_in(&held, name)?;
            Ok((held, file))
        });
        match opened {
            Ok((held, file)) => {
                sys::keep_fresh(&file);
                return Ok((held, file));
            }
            // Removed (a temp cleaner, `rm -rf` while tests run): made again, owner-only and
            // checked, as on first use.
            Err(e) if e.kind() == io::ErrorKind::NotFound && tries < lockdir::RECREATE_TRIES => {
                tries += 1;
                lockdir::open_private_dir(dir)
                    .map_err(|e| io::Error::new(io::ErrorKind::Other, e))?;
            }
            Err(e) => return Err(e),
        }
    }
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
    let io = |e| {
        let dir = files.generation.parent().unwrap_or(&files.generation);
        Error::io(
            format!("cannot count the permits held in `{}`", dir.display()),
            e,
        )
    };
    let mut counted = counted();
    loop {
        // At the gate: wait for enough permits. Holders in other processes leave without
        // telling us, so this polls; only tests that exhaust the budget wait here.
        let fits = || {
            let own = *own_held();
            let fits = |others: u32| others.saturating_add(own).saturating_add(count) <= budget;
            // Taken on at once: whether nobody counted since is checked with our record out.
            if counted.recent().is_some_and(fits) {
                return Ok(Some(()));
            }
            let others = counted.recount(&files.generation)?;
            Ok(fits(others).then_some(()))
        };
        if wait::poll_until(deadline, fits).map_err(io)?.is_none() {
            gate.release_after_timeout();
            return Err(timeout_error(count, budget, timeout));
        }
        // Before the gate goes: whoever counts next sees our permits.
        let record = holder::publish_counted("budget", &Holder::me(test, Claim::Permits(count)))?;
        // The generation must still be the one the count we took on left: then nobody counted
        // between that count and our record, and whoever counts later sees it, whatever gate
        // they passed (the gate is a lock file: one removed meanwhile, by a temp cleaner, is
        // passed by whoever opens the path since, beside us). Moved, someone counted since, or
        // beside us, and neither may have seen the other's permits: ours go back, and we count
        // again.
        if counted.unmoved().map_err(io)? {
            *own_held() += count;
            drop(counted);
            drop(gate);
            return Ok(Permits {
                count,
                record: Some(record),
            });
        }
        drop(record);
        counted.count = None;
        // Bounded like any wait, however often others count beside us.
        if Instant::now() >= deadline {
            gate.release_after_timeout();
            return Err(timeout_error(count, budget, timeout));
        }
    }
}

/// Who holds permits, as the records say.
#[derive(Debug, Default)]
struct Usage {
    /// Permits held by the holders read.
    held: u32,
    /// Every live holder of permits read.
    holders: Vec<(Holder, u32)>,
}

/// Who holds permits among `holders`. Not told apart by pid: [`holder::scan_others`] leaves out
/// this process's records by their names, and a record with our pid besides is another
/// process's, in another pid namespace (a container) sharing the directory.
fn usage(holders: Vec<Holder>) -> Usage {
    let mut usage = Usage::default();
    for holder in holders {
        if let Claim::Permits(count) = holder.claim {
            usage.held = usage.held.saturating_add(count);
            usage.holders.push((holder, count));
        }
    }
    usage
}

fn timeout_error(count: u32, budget: u32, timeout: Duration) -> Error {
    let usage = usage(holder::scan("budget"));
    let used = usage.held;
    let holders: Vec<Holder> = usage
        .holders
        .into_iter()
        .map(|(holder, _)| holder)
        .collect();
    Error::timeout(format!(
        "timed out after {:.1}s waiting for {count} permits of the socket budget ({used} of {budget} in use, {}); \
         {}, or the budget with `{}`",
        timeout.as_secs_f64(),
        holder::describe_all(&holders),
        env::raise_the_wait(),
        env::SOCKET_BUDGET,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Counted {
        /// The others' permits, if this count may be taken on.
        fn trusted(&self) -> Option<u32> {
            self.recent().filter(|_| self.unmoved().unwrap())
        }
    }

    fn uncounted() -> Counted {
        Counted {
            file: None,
            dir: None,
            count: None,
        }
    }

    fn grow(path: &Path, to: u64) {
        File::options()
            .append(true)
            .open(path)
            .unwrap()
            .set_len(to)
            .unwrap();
    }

    /// The others' records, as a count reads them, with our pid: another pid namespace's
    /// process (a container sharing the directory), whose permits are held all the same.
    #[test]
    fn permits_recorded_under_our_pid_by_another_process_are_counted() {
        let holders = vec![
            Holder::me("crate::tests::in_a_container", Claim::Permits(3)),
            Holder::me("crate::tests::serial", Claim::Serial("ws".to_owned())),
        ];
        assert_eq!(usage(holders).held, 3);
    }

    /// Two processes' counts over one generation file: each is trusted only until the other
    /// counts (and so may take permits on its own count).
    #[test]
    fn a_count_is_trusted_only_until_another_process_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generation");
        let (mut first, mut second) = (uncounted(), uncounted());
        assert_eq!(first.trusted(), None);
        first.recount(&path).unwrap();
        assert!(first.trusted().is_some());
        second.recount(&path).unwrap();
        assert_eq!(first.trusted(), None);
        assert!(second.trusted().is_some());
        first.recount(&path).unwrap();
        assert_eq!(second.trusted(), None);
        assert!(first.trusted().is_some());
        // Anything else moving the generation makes every count stale.
        grow(&path, fs::metadata(&path).unwrap().len() + 1);
        assert_eq!(first.trusted(), None);
    }

    /// A count at a file that was renewed is not trusted, even at the very generation it
    /// counted at (the old file's length): the renewed file is a new one.
    #[test]
    fn a_renewed_generation_file_makes_every_count_stale() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generation");
        let (mut first, mut second) = (uncounted(), uncounted());
        first.recount(&path).unwrap();
        grow(&path, RENEW_AT - 1);
        // The second leaves the generation at `RENEW_AT`, so the first renews the file.
        second.recount(&path).unwrap();
        assert!(second.trusted().is_some());
        first.recount(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 1);
        assert!(first.trusted().is_some());
        assert_eq!(second.trusted(), None);
        second.recount(&path).unwrap();
        assert!(second.trusted().is_some());
        assert_eq!(first.trusted(), None);
    }
}
