//! Who holds what: one record per holder, published while it holds and emptied when it lets
//! go, read back when a wait times out (and by the budget, to count permits).
//!
//! A record is a file `h-<pid>-<random>-<n>` that its process keeps locked for as long as it
//! lives, so liveness is the lock, not a pid that may have been reused: a record whose lock can
//! be taken belongs to a process that died (even by SIGKILL), and the reader removes it. A
//! process reuses its emptied records, and one that creates a record first removes the dead
//! processes' records: a process ends with its record still there (nothing runs at exit), and
//! under a process per test (nextest, `fresh_process`) they would pile up, one per test, run
//! after run. So the files in a directory about match the holders that live at once.
//!
//! A record is overwritten in place, never truncated: a size change is a journaled metadata
//! update on ext4 (a `write` and an `ftruncate` per test cost about 10 µs there, two small
//! `pwrite`s about 1.5 µs). Holding writes the holder's line at offset 0; letting go writes
//! one newline there, an empty first line that no reader takes for a holder. Only the first
//! line counts (a shorter line leaves the end of a longer one behind it), and it carries a
//! checksum: a read that overlaps a write may see part of the old line and part of the new,
//! and that must read as no holder rather than a wrong one.

use std::fmt::{self, Write as _};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::wait::{self, Mode};
use crate::{lockdir, sys, Error};

/// What a holder holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// An exclusive (`serial`) member of the group.
    Serial(String),
    /// A shared member of the group.
    Shared(String),
    /// Permits of the socket budget.
    Permits(u32),
    /// A reserved port number.
    Port(u16),
}

impl Claim {
    /// The group this claim is a member of, if any.
    pub(crate) fn group(&self) -> Option<&str> {
        match self {
            Claim::Serial(name) | Claim::Shared(name) => Some(name),
            Claim::Permits(_) | Claim::Port(_) => None,
        }
    }

    /// The inverse of `Display`. Group names never contain spaces (the naming rule), so the
    /// claim is one field of a record line.
    fn parse(text: &str) -> Option<Claim> {
        let (kind, value) = text.split_once('=')?;
        Some(match kind {
            "serial" => Claim::Serial(value.to_owned()),
            "shared" => Claim::Shared(value.to_owned()),
            "permits" => Claim::Permits(value.parse().ok()?),
            "port" => Claim::Port(value.parse().ok()?),
            _ => return None,
        })
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Claim::Serial(name) => write!(f, "serial={name}"),
            Claim::Shared(name) => write!(f, "shared={name}"),
            Claim::Permits(count) => write!(f, "permits={count}"),
            Claim::Port(port) => write!(f, "port={port}"),
        }
    }
}

/// One holder's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) pid: u32,
    pub(crate) since_ms: u64,
    pub(crate) test: String,
    pub(crate) claim: Claim,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// This process's id, read once: `std::process::id` is a system call each time, and a
/// process that `isolate` runs in never forks without `exec`.
pub(crate) fn own_pid() -> u32 {
    static PID: OnceLock<u32> = OnceLock::new();
    *PID.get_or_init(std::process::id)
}

impl Holder {
    pub(crate) fn me(test: &str, claim: Claim) -> Holder {
        Holder {
            pid: own_pid(),
            since_ms: now_ms(),
            test: test.to_owned(),
            claim,
        }
    }

    fn line(&self) -> String {
        // One allocation: this is on the path of every test that holds something.
        let mut line = String::with_capacity(80 + self.test.len());
        // The test name is the only field that could contain spaces: it goes after the others,
        // and the checksum of them all last.
        let _ = write!(
            line,
            "{} {} {} {}",
            self.pid, self.since_ms, self.claim, self.test
        );
        let sum = checksum(line.as_bytes());
        let _ = writeln!(line, " {sum:016x}");
        line
    }

    /// The holder a record names: its first line, if that is whole and names one.
    fn named_by(record: &[u8]) -> Option<Holder> {
        let line = record.split(|&b| b == b'\n').next()?;
        let line = std::str::from_utf8(line).ok()?;
        let (fields, sum) = line.rsplit_once(' ')?;
        if u64::from_str_radix(sum, 16).ok()? != checksum(fields.as_bytes()) {
            return None;
        }
        let mut fields = fields.splitn(4, ' ');
        Some(Holder {
            pid: fields.next()?.parse().ok()?,
            since_ms: fields.next()?.parse().ok()?,
            claim: Claim::parse(fields.next()?)?,
            test: fields.next()?.to_owned(),
        })
    }

    fn describe(&self) -> String {
        let held = Duration::from_millis(now_ms().saturating_sub(self.since_ms));
        format!(
            "`{}` (pid {}, for {:.1}s)",
            self.test,
            self.pid,
            held.as_secs_f64()
        )
    }
}

/// A published record, emptied and kept for reuse by this process when dropped.
#[derive(Debug)]
pub(crate) struct Record {
    dir: &'static str,
    file: Option<File>,
}

/// FNV-1a: a torn read of a record must not parse. Not std's hasher, whose output may differ
/// between the toolchains that built two processes reading each other's records.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Written over a record's first byte on release: an empty first line, no holder.
const RELEASED: &[u8] = b"\n";

impl Drop for Record {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else {
            return;
        };
        // A record that cannot be emptied is closed: its lock goes with it, and the next
        // reader removes it as a dead process's.
        if file.write_all_at(RELEASED, 0).is_ok() {
            idle().push((self.dir, file));
        }
    }
}

/// This process's emptied records, by directory, and how many it has created.
fn idle() -> std::sync::MutexGuard<'static, Vec<(&'static str, File)>> {
    static IDLE: Mutex<Vec<(&'static str, File)>> = Mutex::new(Vec::new());
    IDLE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `h-<pid>-<random>-`: the random part tells us apart from a dead process given our pid.
fn own_prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| format!("h-{}-{}-", own_pid(), lockdir::unique_name()))
}

/// Publishes `holder` in the subdirectory `dir` (`holders`) until the record drops.
pub(crate) fn publish(dir: &'static str, holder: &Holder) -> Result<Record, Error> {
    // A record that could not be written names no holder: the holder still holds, and only a
    // timeout's message is poorer for it.
    written(dir, holder).map(|(record, _)| record)
}

/// Like [`publish`], for a record that others count (`budget`): one that could not be written
/// whole would count what its holder holds as free, so that fails.
pub(crate) fn publish_counted(dir: &'static str, holder: &Holder) -> Result<Record, Error> {
    let (record, written) = written(dir, holder)?;
    written.map_err(|e| {
        let dir = lockdir::subdir(dir).map_or_else(|_| dir.into(), |dir| dir.display().to_string());
        Error::io(format!("cannot write a holder record in `{dir}`"), e)
    })?;
    Ok(record)
}

/// A published record, and whether its line could be written.
fn written(dir: &'static str, holder: &Holder) -> Result<(Record, io::Result<()>), Error> {
    let reused = {
        let mut idle = idle();
        let found = idle.iter().position(|(d, _)| *d == dir);
        found.map(|i| idle.swap_remove(i).1)
    };
    let file = match reused {
        // A record a temp cleaner removed is read by nobody: written to, it would hide its
        // holder (and its permits) for as long as this process kept reusing it.
        Some(file) if sys::is_linked(&file) => file,
        _ => {
            let file = create(&lockdir::subdir(dir)?)?;
            // Once per record a process creates: the readers that remove dead records (a
            // timeout's message, a budget's count) may never come.
            let _ = read(dir, true);
            file
        }
    };
    let written = file.write_all_at(holder.line().as_bytes(), 0);
    let record = Record {
        dir,
        file: Some(file),
    };
    Ok((record, written))
}

/// A new record of ours, locked under a name readers skip and only then renamed into view:
/// a reader that found it unlocked would take it for a dead process's and remove it. Made
/// again if its directory is removed meanwhile (a temp cleaner, `rm -rf` while tests run).
fn create(dir: &Path) -> Result<File, Error> {
    let mut tries = 0;
    loop {
        match create_once(dir) {
            Err(e) if tries < lockdir::RECREATE_TRIES && lockdir::is_not_found(&e) => tries += 1,
            created => return created,
        }
    }
}

fn create_once(dir: &Path) -> Result<File, Error> {
    static CREATED: Mutex<u64> = Mutex::new(0);
    let n = {
        let mut created = CREATED.lock().unwrap_or_else(PoisonError::into_inner);
        *created += 1;
        *created
    };
    let name = format!("{}{n}", own_prefix());
    let hidden = dir.join(format!("new-{name}"));
    let file = lockdir::record_file(&hidden)?;
    let fail = |e| {
        Error::io(
            format!("cannot create the record `{}`", hidden.display()),
            e,
        )
    };
    wait::try_lock(&file, Mode::Exclusive).map_err(fail)?;
    fs::rename(&hidden, dir.join(name)).map_err(fail)?;
    Ok(file)
}

/// Every live holder recorded in the subdirectory `dir` that could be read (for a message);
/// records of dead processes are removed.
pub(crate) fn scan(dir: &'static str) -> Vec<Holder> {
    read(dir, false).0
}

/// Like [`scan`], but only other processes' holders (for a caller that counts this process's
/// own in memory, which need not open this process's records), and failing unless every
/// record was read: a holder missed, say by a process out of file descriptors, would count as
/// free what it holds.
pub(crate) fn scan_others(dir: &'static str) -> io::Result<Vec<Holder>> {
    match read(dir, true) {
        (holders, None) => Ok(holders),
        (_, Some(e)) => Err(e),
    }
}

/// The holders read, and the first error that kept a record from being read.
fn read(dir: &'static str, skip_own: bool) -> (Vec<Holder>, Option<io::Error>) {
    let mut holders = Vec::new();
    let mut failed = None;
    let dir = match lockdir::subdir(dir) {
        Ok(dir) => dir,
        Err(e) => return (holders, Some(io::Error::new(io::ErrorKind::Other, e))),
    };
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        // No directory, no record: removed with it, they are read by nobody.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (holders, None),
        Err(e) => return (holders, Some(e)),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        let name = entry.file_name();
        let name = name.as_bytes();
        // A draft (`new-h-...`) whose lock is free was left by a process that died before it
        // named it (its creator retries on a draft removed before it locked it).
        let draft = name.strip_prefix(b"new-");
        let record = draft.unwrap_or(name);
        if !record.starts_with(b"h-") || (skip_own && record.starts_with(own_prefix().as_bytes())) {
            continue;
        }
        let path = entry.path();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            // Removed since the listing, by a reader that found its holder dead.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                failed.get_or_insert(e);
                continue;
            }
        };
        // A second open of a record conflicts with its holder's lock, in this process too.
        let read = wait::try_lock(&file, Mode::Shared).and_then(|free| {
            if free {
                let _ = fs::remove_file(&path);
                return Ok(());
            }
            if draft.is_some() {
                return Ok(());
            }
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            holders.extend(Holder::named_by(&bytes));
            Ok(())
        });
        if let Err(e) = read {
            failed.get_or_insert(e);
        }
    }
    holders.sort_by_key(|holder| holder.since_ms);
    (holders, failed)
}

/// "held by `a` (pid 1, for 2.0s), `b` (...)", or a note that nobody live is recorded.
pub(crate) fn describe_all(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return "no live holder is recorded; other waiters may be ahead".to_owned();
    }
    let shown: Vec<String> = holders.iter().rev().take(4).map(Holder::describe).collect();
    let more = holders.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("held by {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_line() {
        for claim in [
            Claim::Serial("db/users:v2".to_owned()),
            Claim::Shared("ws".to_owned()),
            Claim::Permits(64),
            Claim::Port(20_001),
        ] {
            let holder = Holder::me("crate::tests::with spaces", claim);
            assert_eq!(Holder::named_by(holder.line().as_bytes()), Some(holder));
        }
        let line = |fields: &str| format!("{fields} {:016x}", checksum(fields.as_bytes()));
        assert_eq!(
            Holder::named_by(line("1 2 permits=x test").as_bytes()),
            None
        );
        assert_eq!(
            Holder::named_by(line("1 2 exclusive test").as_bytes()),
            None
        );
    }

    /// A read that overlaps a write sees the start of one line and the end of another: it
    /// names the old holder or the new one (where the two lines agree up to the cut or from
    /// it), or nobody, never a holder made of both.
    #[test]
    fn a_torn_line_names_no_wrong_holder() {
        let old = Holder::me("crate::tests::old", Claim::Permits(8));
        let new = Holder::me("crate::tests::new", Claim::Permits(1));
        let (old_line, new_line) = (old.line(), new.line());
        let mut mixed = 0;
        for cut in 1..new_line.len() - 1 {
            let torn = format!("{}{}", &new_line[..cut], &old_line[cut..]);
            match Holder::named_by(torn.as_bytes()) {
                Some(holder) => assert!(holder == old || holder == new, "{torn}"),
                None => mixed += 1,
            }
        }
        assert!(mixed > 0);
    }

    /// Many holds and releases through reused records, names of very different lengths: a
    /// scan names exactly the holders holding now, never one that let go, never a mix.
    #[test]
    fn a_scan_names_exactly_the_current_holders() {
        let mut held: Vec<(String, Record)> = Vec::new();
        let mut next = crate::test_rng::below(0x2545_f491_4f6c_dd1d_u64);
        for round in 0..300 {
            if held.is_empty() || (held.len() < 6 && next(2) == 0) {
                let name = format!("test::{round}::{}", "n".repeat(next(3) * next(120)));
                let holder = Holder::me(&name, Claim::Serial("test".to_owned()));
                held.push((name, publish("test-holders", &holder).unwrap()));
            } else {
                drop(held.swap_remove(next(held.len())));
            }
            let mut named: Vec<String> = scan("test-holders")
                .into_iter()
                .filter(|holder| holder.pid == own_pid())
                .map(|holder| holder.test)
                .collect();
            let mut holding: Vec<String> = held.iter().map(|(name, _)| name.clone()).collect();
            named.sort();
            holding.sort();
            assert_eq!(named, holding, "round {round}");
        }
    }

    /// A record removed by a temp cleaner while kept for reuse is not written to again: its
    /// next holder is in a record that readers see. The directory is machine-wide: only this
    /// process's records are removed and looked for, as another run of these tests may hold
    /// its own there at the same moment.
    #[test]
    fn a_removed_record_is_not_reused() {
        let holder = Holder::me("crate::tests::removed", Claim::Permits(1));
        drop(publish("test-removed", &holder).unwrap());
        let dir = lockdir::subdir("test-removed").unwrap();
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(own_prefix())
            {
                fs::remove_file(entry.path()).unwrap();
            }
        }
        let _held = publish("test-removed", &holder).unwrap();
        let ours: Vec<Holder> = scan("test-removed")
            .into_iter()
            .filter(|found| found.pid == holder.pid)
            .collect();
        assert_eq!(ours, vec![holder]);
    }

    /// A released record (a newline over the first byte) and one a shorter line overwrote.
    #[test]
    fn only_a_whole_first_line_names_a_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record");
        let file = lockdir::record_file(&path).unwrap();
        let long = Holder::me("crate::tests::a_much_longer_name", Claim::Permits(2));
        let short = Holder::me("crate::tests::short", Claim::Permits(1));
        let first_line = || Holder::named_by(&fs::read(&path).unwrap());
        file.write_all_at(long.line().as_bytes(), 0).unwrap();
        assert_eq!(first_line(), Some(long));
        file.write_all_at(RELEASED, 0).unwrap();
        assert_eq!(first_line(), None);
        file.write_all_at(short.line().as_bytes(), 0).unwrap();
        assert_eq!(first_line(), Some(short));
    }
}
