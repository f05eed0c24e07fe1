//! Named groups: exclusive (`serial`) and shared (`shared`) members, across threads and
//! processes, released by the kernel when a holder dies.
//!
//! Each group has two lock files. The *main* file is locked exclusively by a `serial` member
//! and shared by `shared` members. The *gate* file is taken exclusively by every entrant while
//! it acquires the main lock and released once it holds it. So a waiting exclusive member,
//! which holds the gate, stops new shared members from slipping past it: it waits only for the
//! shared members already inside, and then the group alternates between waiters instead of
//! letting a stream of shared members starve it.

use std::fmt::Write;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::holder::{self, Holder};
use crate::wait::{self, Mode, WaitError};
use crate::{lockdir, Error};

/// Membership of one group, held until dropped.
#[derive(Debug)]
pub(crate) struct GroupLock {
    main: File,
    mode: Mode,
    #[cfg(feature = "serial_test")]
    _interop: crate::interop::SerialTestLock,
}

impl Drop for GroupLock {
    fn drop(&mut self) {
        if self.mode == Mode::Exclusive {
            // The next holder starts from an empty record.
            let _ = self.main.set_len(0);
        }
    }
}

/// The file name of a group: names the attribute accepts map to themselves, anything else is
/// percent-encoded, so no name can reach outside the lock directory.
fn file_stem(name: &str) -> String {
    let mut stem = String::from("group-");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || byte == b'.' {
            stem.push(char::from(byte));
        } else {
            let _ = write!(stem, "%{byte:02X}");
        }
    }
    stem
}

pub(crate) fn paths(name: &str) -> Result<(PathBuf, PathBuf), Error> {
    let dir = lockdir::subdir("locks")?;
    let stem = file_stem(name);
    Ok((
        dir.join(format!("{stem}.lock")),
        dir.join(format!("{stem}.gate")),
    ))
}

/// Joins `name` in `mode`, waiting until `deadline`.
pub(crate) fn join(
    name: &str,
    mode: Mode,
    test: &str,
    deadline: Instant,
    timeout: Duration,
) -> Result<GroupLock, Error> {
    if name.is_empty() || name.len() > 255 {
        return Err(Error::config(format!(
            "invalid group name `{name}`: use 1 to 255 bytes"
        )));
    }
    let (main_path, gate_path) = paths(name)?;
    let main = lockdir::lock_file(&main_path)?;
    let io = |e| Error::io(format!("cannot lock `{}`", main_path.display()), e);
    // An exclusive entrant that finds the group free needs no gate: the gate only keeps shared
    // newcomers from slipping past a waiting exclusive member, and this one is not waiting.
    let main = if mode == Mode::Exclusive && wait::try_lock(&main, mode).map_err(io)? {
        main
    } else {
        let gate = lockdir::lock_file(&gate_path)?;
        if wait::try_lock(&gate, Mode::Exclusive).map_err(io)?
            && wait::try_lock(&main, mode).map_err(io)?
        {
            main
        } else {
            // Slow path: wait in the kernel's queue, gate first, on a helper thread.
            let waited = wait::until(deadline, move || {
                wait::lock(&gate, Mode::Exclusive)?;
                wait::lock(&main, mode)?;
                Ok(main)
            });
            match waited {
                Ok(main) => main,
                Err(WaitError::Io(e)) => return Err(io(e)),
                Err(WaitError::TimedOut) => {
                    let holders = lockdir::lock_file(&main_path)
                        .map(|f| holder::read(&f))
                        .unwrap_or_default();
                    return Err(timeout_error(name, mode, timeout, &holders));
                }
            }
        }
    };
    let detail = if mode == Mode::Exclusive {
        "serial"
    } else {
        "shared"
    };
    if mode == Mode::Shared && main.metadata().is_ok_and(|m| m.len() > 64 * 1024) {
        // Shared members never clear their lines; keep the record from growing without end.
        let _ = main.set_len(0);
    }
    holder::record(&main, &Holder::me(test, detail));
    Ok(GroupLock {
        #[cfg(feature = "serial_test")]
        _interop: crate::interop::SerialTestLock::acquire(name, mode, deadline)
            .map_err(|()| timeout_error(name, mode, timeout, &[]))?,
        main,
        mode,
    })
}

fn timeout_error(name: &str, mode: Mode, timeout: Duration, holders: &[Holder]) -> Error {
    let kind = if mode == Mode::Exclusive {
        "serial"
    } else {
        "shared"
    };
    Error::timeout(format!(
        "timed out after {:.1}s waiting for {kind} group `{name}` ({}); if the holder is legitimately slow, \
         raise the wait with `timeout = \"...\"` on the test or the `{}` environment variable",
        timeout.as_secs_f64(),
        holder::describe_all(holders),
        crate::env::TIMEOUT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_directory() {
        assert_eq!(file_stem("ws"), "group-ws");
        assert_eq!(file_stem("db/users:v2"), "group-db%2Fusers%3Av2");
        assert_eq!(file_stem("../../etc"), "group-..%2F..%2Fetc");
        assert!(!file_stem("a/b\0c").contains(['/', '\0']));
    }
}
