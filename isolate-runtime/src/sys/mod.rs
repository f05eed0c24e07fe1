//! The platform boundary: every call that is specific to Unix or to Linux lives here.
//!
//! Everything but [`ephemeral_range`] is portable across the Unixes rustix supports (Linux,
//! Android, macOS and the BSDs): safe wrappers over `getuid`, `getrlimit`, `open(O_NOFOLLOW)`,
//! `fstat` and `mkdir(0700)`, no `/proc` text and no `unsafe`. Whether a holder is alive is
//! never asked of a pid (which the kernel reuses): a holder keeps a lock, which dies with it.
//! The kernel's ephemeral port range has no syscall; it is read from `/proc/sys` on Linux and
//! assumed to be the IANA range elsewhere (the default of macOS and the BSDs).
//!
//! [`process`] holds the child-process side: process groups, the parent-death signal (the one
//! audited `unsafe` of the crate) and a process's start time; [`watchdog`] stops a dead test
//! process's children's groups at once (Linux).

pub(crate) mod process;
pub(crate) mod watchdog;

use std::fs::{self, File, Metadata};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::process::Resource;

/// The real uid of this process.
pub(crate) fn uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// The owner's uid and the permission bits (`0o777`) of a file.
pub(crate) fn owner_and_mode(meta: &Metadata) -> (u32, u32) {
    (meta.uid(), meta.permissions().mode() & 0o777)
}

/// Creates one directory, owner-only (`0700`).
pub(crate) fn create_private_dir(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new().mode(0o700).create(path)
}

/// Creates a directory and its missing parents, each owner-only (`0700`).
pub(crate) fn create_private_dirs(path: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// Opens a lock file for reading and appending, creating it owner-only (`0600`); a symlink in
/// its place is refused (`O_NOFOLLOW`), never followed.
pub(crate) fn open_lock_file(path: &Path) -> io::Result<File> {
    open_owner_only(path, OFlags::APPEND)
}

/// How old a lock file's modification time may get before [`keep_fresh`] renews it.
pub(crate) const FRESH_FOR: u64 = 86_400;

/// Sets `file`'s access and modification times to `when`, for tests of age-based behaviour.
#[cfg(test)]
pub(crate) fn set_modified(file: &File, when: std::time::SystemTime) {
    let since = when.duration_since(std::time::UNIX_EPOCH).unwrap();
    let then = rustix::fs::Timespec {
        tv_sec: i64::try_from(since.as_secs()).unwrap(),
        tv_nsec: 0,
    };
    rustix::fs::futimens(
        file,
        &rustix::fs::Timestamps {
            last_access: then,
            last_modification: then,
        },
    )
    .unwrap();
}

/// Renews `file`'s modification time when it is over a day old. A lock file is locked, never
/// written, so its times stay those of its creation; an age-based temp cleaner
/// (systemd-tmpfiles removes what nobody modified for some days) would remove it while a run
/// holds it, and the next process would lock a new file at the same path, beside the holder.
pub(crate) fn keep_fresh(file: &File) {
    let Ok(stat) = rustix::fs::fstat(file) else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let modified = u64::try_from(stat.st_mtime).unwrap_or(0);
    if now.saturating_sub(modified) > FRESH_FOR {
        let now = rustix::fs::Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        };
        // Failing leaves the file as old as it was: the lock itself still works.
        let _ = rustix::fs::futimens(
            file,
            &rustix::fs::Timestamps {
                last_access: now,
                last_modification: now,
            },
        );
    }
}

/// Like [`open_lock_file`], but not for appending: a holder record is overwritten in place,
/// and with `O_APPEND` Linux appends even a positioned write.
pub(crate) fn open_record_file(path: &Path) -> io::Result<File> {
    open_owner_only(path, OFlags::empty())
}

/// [`open_lock_file`] for `name` in the directory `dir`, held open: a directory removed since
/// it was opened takes no new file (the call fails with `NotFound`), so the file is then in
/// the directory we hold, not in one made again at its path.
pub(crate) fn open_lock_file_in(dir: &File, name: &str) -> io::Result<File> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::APPEND;
    let fd = rustix::fs::openat(dir, name, flags, Mode::RUSR | Mode::WUSR)?;
    Ok(File::from(fd))
}

fn open_owner_only(path: &Path, extra: OFlags) -> io::Result<File> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC | extra;
    let fd = rustix::fs::open(path, flags, Mode::RUSR | Mode::WUSR)?;
    Ok(File::from(fd))
}

/// A file with no name, for a child's output: nothing to create in a directory nor to remove
/// (a memfd, in memory, on Linux and FreeBSD). Its size is what was written to it, by anyone
/// who holds it.
///
/// In append mode: its writers (the child's threads on stdout and on stderr joined to it, the
/// processes it starts) share one offset, which a memfd does not update atomically as Linux
/// does a named file's, so two writes at once would land at one offset, the second over the
/// first. Appended, each lands after all the others.
pub(crate) fn anonymous_file(name: &str) -> io::Result<File> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    if let Ok(fd) = rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC) {
        rustix::fs::fcntl_setfl(&fd, OFlags::APPEND)?;
        return Ok(File::from(fd));
    }
    unlinked_file(name)
}

/// [`anonymous_file`] where there are no memfds (elsewhere, or refused by a seccomp filter or
/// a kernel before 3.17): a new file in the lock directory, unlinked at once. Not in std's
/// `temp_dir`, which takes an empty `TMPDIR` (CI's unset variables) for the working directory
/// and a relative one for a different directory in each crate's tests: the lock directory's
/// rule makes the first `/tmp` and refuses the second with its fix, and `ISOLATE_DIR` moves it.
fn unlinked_file(name: &str) -> io::Result<File> {
    let root = crate::lockdir::root()?;
    let path = root.join(format!("{name}-{}", crate::lockdir::unique_name()));
    let file = open_owner_only(&path, OFlags::EXCL | OFlags::APPEND)?;
    fs::remove_file(&path)?;
    Ok(file)
}

/// Opens a directory itself (to lock it), refusing a symlink in its place.
pub(crate) fn open_dir(path: &Path) -> io::Result<File> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(File::from(rustix::fs::open(path, flags, Mode::empty())?))
}

/// The working directory itself, not its path, to go back to with `fchdir` even when it has
/// been removed or renamed since. `O_PATH` where there is one (no read permission needed, like
/// `chdir`); a read-only open elsewhere.
pub(crate) fn open_cwd() -> io::Result<std::os::fd::OwnedFd> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let access = OFlags::PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let access = OFlags::RDONLY;
    let flags = access | OFlags::DIRECTORY | OFlags::CLOEXEC;
    Ok(rustix::fs::open(".", flags, Mode::empty())?)
}

/// The soft limit on open files (`RLIMIT_NOFILE`), `None` when unlimited.
pub(crate) fn open_file_limit() -> Option<u64> {
    rustix::process::getrlimit(Resource::Nofile).current
}

/// Whether `file` is still the file at `path` (same device and inode): a lock taken on a file
/// that was unlinked and replaced meanwhile guards nothing.
pub(crate) fn is_file_at(file: &File, path: &Path) -> bool {
    matches!((file_id(file), file_id_at(path)), (Ok(open), Ok(named)) if open == named)
}

/// Whether `file`, kept open, still has a name in its directory: one removed (or replaced)
/// meanwhile is read by no other process. One call, cheaper than looking the name up.
pub(crate) fn is_linked(file: &File) -> bool {
    links_and_size(file).is_ok_and(|(links, _)| links > 0)
}

/// How many names `file` has, and its size, in one call. On Linux a `statx` that asks for no
/// time: `fstat` marks the change time as seen, and since Linux 6.13 (multigrain timestamps:
/// ext4, xfs, btrfs, tmpfs) the file's next write must then stamp a fine-grained time, an inode
/// update that doubles the cost of the write that follows every check on a test's path.
pub(crate) fn links_and_size(file: &File) -> io::Result<(u64, u64)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{statx, AtFlags, StatxFlags};
        let wanted = StatxFlags::NLINK | StatxFlags::SIZE;
        // Refused before Linux 4.11 and by some seccomp filters: then `fstat`, as elsewhere.
        if let Ok(stat) = statx(file, "", AtFlags::EMPTY_PATH, wanted) {
            if stat.stx_mask & wanted.bits() == wanted.bits() {
                return Ok((u64::from(stat.stx_nlink), stat.stx_size));
            }
        }
    }
    let stat = rustix::fs::fstat(file)?;
    #[allow(clippy::useless_conversion)] // `st_nlink` is narrower than 64 bits on some Unixes
    let links = u64::from(stat.st_nlink);
    Ok((links, u64::try_from(stat.st_size).unwrap_or(0)))
}

/// Which file a file is, whatever its names: its device and inode.
pub(crate) type FileId = (u64, u64);

/// Which file `file` is.
pub(crate) fn file_id(file: &File) -> io::Result<FileId> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{statx, AtFlags, StatxFlags};
        if let Ok(stat) = statx(file, "", AtFlags::EMPTY_PATH, StatxFlags::INO) {
            if stat.stx_mask & StatxFlags::INO.bits() != 0 {
                return Ok(statx_id(&stat));
            }
        }
    }
    let meta = file.metadata()?;
    Ok((meta.dev(), meta.ino()))
}

/// Which file is named `name` in the directory `dir` now (a symlink there is not followed), and
/// its size, in one call that, like [`links_and_size`], asks for no time. A file removed,
/// moved away or replaced since it was opened is told apart from the one that now has its
/// name; looked up from the open directory, one name costs less than a whole path.
pub(crate) fn file_id_and_size_in(dir: &File, name: &str) -> io::Result<(FileId, u64)> {
    id_and_size_at(dir.as_fd(), Path::new(name))
}

/// Which file is at `path` now (a symlink there is not followed): [`file_id_and_size_in`] for
/// a whole path.
pub(crate) fn file_id_at(path: &Path) -> io::Result<FileId> {
    id_and_size_at(rustix::fs::CWD, path).map(|(id, _)| id)
}

fn id_and_size_at(dir: BorrowedFd<'_>, name: &Path) -> io::Result<(FileId, u64)> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{statx, AtFlags, StatxFlags};
        let wanted = StatxFlags::INO | StatxFlags::SIZE;
        match statx(dir, name, AtFlags::SYMLINK_NOFOLLOW, wanted) {
            Ok(stat) if stat.stx_mask & wanted.bits() == wanted.bits() => {
                return Ok((statx_id(&stat), stat.stx_size));
            }
            Err(rustix::io::Errno::NOENT) => return Err(io::ErrorKind::NotFound.into()),
            _ => {}
        }
    }
    let stat = rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)?;
    // `dev_t` is signed on macOS (`i32`): `as` widens every width and sign the Unixes use
    // without losing a bit, and the id is only ever compared.
    #[allow(clippy::unnecessary_cast, clippy::cast_sign_loss)]
    let id = (stat.st_dev as u64, stat.st_ino as u64);
    Ok((id, u64::try_from(stat.st_size).unwrap_or(0)))
}

/// A `statx`'s file, in the numbering `fstat` uses, so that either call may tell it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn statx_id(stat: &rustix::fs::Statx) -> FileId {
    #[allow(clippy::useless_conversion)] // `dev_t` is 64 bits where rustix's `Dev` is
    let dev = u64::from(rustix::fs::makedev(stat.stx_dev_major, stat.stx_dev_minor));
    (dev, stat.stx_ino)
}

/// What to run to re-run this process's own binary. On Linux `/proc/self/exe`, which the
/// kernel resolves to the file this process runs even when its path has since been removed or
/// names a new build (another run, or an edit and a rerun, rebuilding the target dir while
/// the suite runs); elsewhere the path it was started from.
pub(crate) fn own_binary() -> io::Result<std::path::PathBuf> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let exe = Path::new("/proc/self/exe");
        if exe.exists() {
            return Ok(exe.to_owned());
        }
    }
    std::env::current_exe()
}

/// The kernel's ephemeral port range, inclusive: the numbers it hands out for port 0 and for
/// outgoing connections. Linux has no syscall for it, so it is read from
/// `net.ipv4.ip_local_port_range`, with the kernel's default where that cannot be read.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn ephemeral_range() -> (u16, u16) {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut numbers = text.split_whitespace().map(str::parse::<u16>);
            Some((numbers.next()?.ok()?, numbers.next()?.ok()?))
        })
        .unwrap_or((32_768, 60_999))
}

/// The kernel's ephemeral port range, inclusive. Elsewhere it is a sysctl
/// (`net.inet.ip.portrange.first`/`last`) that std cannot read without `unsafe`; macOS and the
/// BSDs default to the IANA range, which is assumed here. Set `ISOLATE_PORT_BAND` where the
/// host differs.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn ephemeral_range() -> (u16, u16) {
    (49_152, 65_535)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_refuse_symlinks() {
        for open in [open_lock_file, open_record_file] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("target");
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&target, &link).unwrap();
            assert!(open(&link).is_err());
            assert!(!target.exists());
            let file = open(&target).unwrap();
            let (owner, mode) = owner_and_mode(&file.metadata().unwrap());
            assert_eq!((owner, mode), (uid(), 0o600));
            assert!(is_file_at(&file, &target));
            std::fs::remove_file(&target).unwrap();
            drop(open(&target).unwrap());
            assert!(!is_file_at(&file, &target));
        }
    }

    #[test]
    fn a_file_is_told_apart_from_the_one_that_took_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("generation");
        let file = open_lock_file(&path).unwrap();
        std::io::Write::write_all(&mut &file, b"ab").unwrap();
        let id = file_id(&file).unwrap();
        let opened = open_dir(dir.path()).unwrap();
        let at = || file_id_and_size_in(&opened, "generation");
        assert_eq!(at().unwrap(), (id, 2));
        assert_eq!(id, {
            let meta = file.metadata().unwrap();
            (meta.dev(), meta.ino())
        });
        std::fs::rename(&path, dir.path().join("moved")).unwrap();
        let replaced = open_lock_file(&path).unwrap();
        assert_ne!(at().unwrap().0, id);
        assert_eq!(at().unwrap().0, file_id(&replaced).unwrap());
        std::fs::remove_file(&path).unwrap();
        let gone = at().unwrap_err();
        assert_eq!(gone.kind(), std::io::ErrorKind::NotFound);
    }

    /// Writers that share the file's offset (a child's stdout, its stderr joined to it, the
    /// processes it starts) each write where they last saw the end: two writes at one offset
    /// must both be kept, the second after the first, not over it.
    #[test]
    fn an_anonymous_file_keeps_a_write_made_at_a_stale_offset() {
        use std::io::{Seek, SeekFrom, Write};
        use std::os::unix::fs::FileExt;
        // The memfd, and the unlinked file that stands for it where there are none.
        for mut file in [
            anonymous_file("isolate-test").unwrap(),
            unlinked_file("isolate-test").unwrap(),
        ] {
            file.write_all(b"first ").unwrap();
            // As a second writer that read the offset before the first wrote.
            file.seek(SeekFrom::Start(0)).unwrap();
            file.write_all(b"second").unwrap();
            let mut written = vec![0; usize::try_from(file.metadata().unwrap().len()).unwrap()];
            file.read_exact_at(&mut written, 0).unwrap();
            assert_eq!(String::from_utf8_lossy(&written), "first second");
        }
    }

    /// Where there are no memfds, a child's output is in the lock directory, whose rule for
    /// `TMPDIR` (`lockdir`'s tests: an empty one is `/tmp`, a relative one refused) is not
    /// std's `temp_dir` (an empty one is the working directory), and nothing is left there.
    #[cfg(target_os = "linux")]
    #[test]
    fn an_unlinked_file_is_made_in_the_lock_directory_and_leaves_nothing() {
        use std::os::fd::AsRawFd;
        let file = unlinked_file("isolate-where").unwrap();
        let link = fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).unwrap();
        let link = link.to_string_lossy();
        let (path, deleted) = link.split_at(link.len() - " (deleted)".len());
        assert_eq!(deleted, " (deleted)", "{link}");
        let root = crate::lockdir::root().unwrap();
        assert_eq!(Path::new(path).parent(), Some(root), "{link}");
        assert!(Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("isolate-where-"));
    }

    #[test]
    fn a_removed_or_replaced_file_is_not_linked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("record");
        let removed = open_record_file(&path).unwrap();
        assert!(is_linked(&removed));
        std::fs::remove_file(&path).unwrap();
        assert!(!is_linked(&removed));
        let replaced = open_record_file(&path).unwrap();
        drop(open_record_file(&dir.path().join("new")).unwrap());
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert!(!is_linked(&replaced));
        assert!(is_linked(&open_record_file(&path).unwrap()));
    }
}
