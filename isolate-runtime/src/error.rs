//! The runtime's one error type.

use std::fmt;
use std::io;

/// Why a resource could not be had. Its message says what, where, and what to do.
///
/// # Examples
///
/// ```
/// let error = isolate_runtime::Port::bind_to("192.0.2.1:0".parse().unwrap()).unwrap_err();
/// assert!(error.to_string().starts_with("cannot bind a TCP listener on `192.0.2.1:0`"));
/// ```
#[derive(Debug)]
pub struct Error {
    kind: Kind,
    message: String,
    source: Option<io::Error>,
    /// What to do, said after the source.
    fix: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Io,
    Timeout,
    Config,
}

impl Error {
    pub(crate) fn io(message: impl Into<String>, source: io::Error) -> Self {
        Error {
            kind: Kind::Io,
            message: message.into(),
            source: Some(source),
            fix: None,
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Io,
            message: message.into(),
            source: None,
            fix: None,
        }
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Timeout,
            message: message.into(),
            source: None,
            fix: None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Config,
            message: message.into(),
            source: None,
            fix: None,
        }
    }

    /// [`Error::io`] for a file or directory in the isolate directory: the failures a machine's
    /// setup causes (no permission, a full disk, a path too long, out of file descriptors) say
    /// what to do about them.
    pub(crate) fn io_in_dir(message: impl Into<String>, source: io::Error) -> Self {
        use rustix::io::Errno;
        let fix = match Errno::from_io_error(&source) {
            Some(Errno::ACCESS | Errno::PERM | Errno::ROFS) => {
                Some("make it writable, or point `ISOLATE_DIR` at a directory you can write")
            }
            Some(Errno::NOSPC | Errno::DQUOT) => Some(
                "free space there, or point `ISOLATE_DIR` at a directory on another filesystem",
            ),
            Some(Errno::NAMETOOLONG) => Some("point `ISOLATE_DIR` at a shorter path"),
            Some(Errno::NOTDIR) => Some(
                "a part of the path is a file: point `TMPDIR`, or `ISOLATE_DIR`, at a directory",
            ),
            Some(Errno::MFILE | Errno::NFILE) => {
                Some("the process is out of file descriptors: raise the limit (`ulimit -n`)")
            }
            _ => None,
        };
        Error {
            fix,
            ..Error::io(message, source)
        }
    }

    /// True when a wait for a group or for budget permits ran out of time.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.kind == Kind::Timeout
    }

    /// True when an `ISOLATE_*` environment variable or an argument could not be used.
    #[must_use]
    pub fn is_config(&self) -> bool {
        self.kind == Kind::Config
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message)?,
            None => f.write_str(&self.message)?,
        }
        match self.fix {
            Some(fix) => write!(f, "; {fix}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e as _)
    }
}

/// Adds the path an I/O error happened at, tempfile's `with_err_path` habit.
pub(crate) trait IoContext<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;

    /// [`context`](IoContext::context) for a path in the isolate directory: see
    /// [`Error::io_in_dir`].
    fn context_in_dir(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::io(what(), source))
    }

    fn context_in_dir(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::io_in_dir(what(), source))
    }
}

/// So that a test returning `std::io::Result` can use `?` on the runtime's calls. The kind is
/// the underlying I/O error's, `TimedOut` for a timeout, and `InvalidInput` for configuration.
///
/// # Examples
///
/// ```
/// fn serve() -> std::io::Result<std::net::TcpListener> {
///     Ok(isolate_runtime::Port::bind()?.into_nonblocking_listener()?)
/// }
/// assert!(serve().is_ok());
/// ```
impl From<Error> for io::Error {
    fn from(error: Error) -> Self {
        let kind = match (&error.source, error.kind) {
            (Some(source), _) => source.kind(),
            (None, Kind::Timeout) => io::ErrorKind::TimedOut,
            (None, Kind::Config) => io::ErrorKind::InvalidInput,
            (None, Kind::Io) => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}
