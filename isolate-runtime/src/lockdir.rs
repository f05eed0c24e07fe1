//! The per-user directory that holds lock files, reservations and temp dirs.
//!
//! It is created owner-only (0700) and refused when it is a symlink, owned by someone else,
//! or open to others: anyone who could write into it could plant a symlink or hold our locks.

use std::fs::{self, DirBuilder};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::error::IoContext;
use crate::{env, Error};

/// The validated root, `$ISOLATE_DIR` or `<temp dir>/isolate-<uid>`, created on first use.
pub(crate) fn root() -> Result<&'static Path, Error> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let path = match env::dir() {
            Some(dir) => dir,
            None => std::env::temp_dir().join(format!(
                "isolate-{}",
                current_uid().map_err(|e| e.to_string())?
            )),
        };
        open_private_dir(&path)
            .map(|()| path)
            .map_err(|e| e.to_string())
    })
    .as_deref()
    .map_err(|message| Error::refused(message.clone()))
}

/// A subdirectory of the root (`locks`, `tmp`, ...), created owner-only and validated on the
/// process's first use; later calls cost no syscall. Should it vanish while we run (a temp
/// cleaner), [`lock_file`] creates it again.
pub(crate) fn subdir(name: &'static str) -> Result<PathBuf, Error> {
    static VALIDATED: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let path = root()?.join(name);
    let mut validated = VALIDATED.lock().unwrap_or_else(PoisonError::into_inner);
    if !validated.contains(&name) {
        open_private_dir(&path)?;
        validated.push(name);
    }
    Ok(path)
}

/// Creates `path` owner-only if missing, then checks it is a real directory, ours, and closed
/// to others.
///
/// # Errors
///
/// Says which check failed and how to fix it.
///
/// # Examples
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
///
/// let parent = tempfile::tempdir().unwrap();
/// let open = parent.path().join("open");
/// std::fs::create_dir(&open).unwrap();
/// std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
/// let error = isolate_runtime::open_private_dir(&open).unwrap_err();
/// assert!(error.to_string().contains("its mode is 755, open to other users"));
/// assert!(isolate_runtime::open_private_dir(&parent.path().join("fresh")).is_ok());
/// ```
pub fn open_private_dir(path: &Path) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).context(|| format!("cannot create `{}`", parent.display()))?;
    }
    match DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::io(
                format!("cannot create the isolate directory `{}`", path.display()),
                e,
            ));
        }
    }
    check_private_dir(path)
}

fn check_private_dir(path: &Path) -> Result<(), Error> {
    let shown = path.display();
    let fix = format!(
        "remove it, or point `{}` at a directory you own with mode 0700",
        env::DIR
    );
    let meta = fs::symlink_metadata(path).context(|| format!("cannot inspect `{shown}`"))?;
    if meta.file_type().is_symlink() {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is a symlink, which someone may have planted; {fix}"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is not a directory; {fix}"
        )));
    }
    let uid = current_uid()?;
    if meta.uid() != uid {
        return Err(Error::refused(format!(
            "refusing `{shown}`: it is owned by uid {}, not by you (uid {uid}); {fix}",
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::refused(format!(
            "refusing `{shown}`: its mode is {mode:o}, open to other users; run `chmod 700 {shown}`, or {fix}"
        )));
    }
    Ok(())
}

/// The effective uid, read from the owner of a file we just created: std has no `getuid`, and
/// this avoids `unsafe` and a libc dependency.
fn current_uid() -> Result<u32, Error> {
    static UID: OnceLock<u32> = OnceLock::new();
    if let Some(uid) = UID.get() {
        return Ok(*uid);
    }
    let file = tempfile::tempfile()
        .context(|| "cannot create a file to learn the current user id".to_owned())?;
    let uid = file
        .metadata()
        .context(|| "cannot read a temp file's owner".to_owned())?
        .uid();
    Ok(*UID.get_or_init(|| uid))
}

/// Opens (creating owner-only) a lock file under the root, recreating its directory if it was
/// removed since we validated it.
pub(crate) fn lock_file(path: &Path) -> Result<fs::File, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = || {
        fs::OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(O_NOFOLLOW)
            .open(path)
    };
    let what = || format!("cannot open the lock file `{}`", path.display());
    match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                open_private_dir(dir)?;
            }
            open().context(what)
        }
        opened => opened.context(what),
    }
}

/// `O_NOFOLLOW` on Linux: a symlink in place of a lock file is refused, not followed.
#[cfg(target_os = "linux")]
const O_NOFOLLOW: i32 = 0o400_000;
#[cfg(not(target_os = "linux"))]
const O_NOFOLLOW: i32 = 0x100;
