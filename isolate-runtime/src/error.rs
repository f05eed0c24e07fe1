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
        }
    }

    pub(crate) fn refused(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Io,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn timeout(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Timeout,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Config,
            message: message.into(),
            source: None,
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
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
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
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|source| Error::io(what(), source))
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
