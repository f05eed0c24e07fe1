//! What a failure was, read from the failing test's own output.

use serde::Serialize;

/// The kind of a failed run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// `Address already in use`: another test holds the port.
    AddressInUse,
    /// Nothing listens (yet) where the test connects.
    ConnectionRefused,
    /// The other end went away mid-exchange.
    ConnectionReset,
    /// A wait ran out, or the runner ended the test as hung.
    Timeout,
    /// The open-file limit was reached.
    TooManyOpenFiles,
    /// A file the test wrote was gone.
    MissingFile,
    /// An assertion failed: the test read something else than it wrote or expected.
    WrongData,
    /// The test's own thread did not panic: another thread did, or a lock was poisoned.
    PanicElsewhere,
    /// The runner never reported the test (its process crashed or was killed).
    NotReported,
    /// The test's own panic, with none of the messages above.
    Other,
}

impl FailureKind {
    /// The kind's name in tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::AddressInUse => "address in use",
            FailureKind::ConnectionRefused => "connection refused",
            FailureKind::ConnectionReset => "connection reset",
            FailureKind::Timeout => "timeout",
            FailureKind::TooManyOpenFiles => "too many open files",
            FailureKind::MissingFile => "missing file",
            FailureKind::WrongData => "wrong data",
            FailureKind::PanicElsewhere => "panic elsewhere",
            FailureKind::NotReported => "not reported",
            FailureKind::Other => "other",
        }
    }
}

/// The kind of `test`'s failure from its captured output: from the test thread's own panic
/// when it is there (a server thread that panicked is the cause, the test's panic the symptom
/// it saw), else from the whole output.
///
/// ```
/// use cargo_isolate::stress::{classify, FailureKind};
/// let output = "thread 'a' (7) panicked at t.rs:1:1:\nOs { code: 98, kind: AddrInUse }";
/// assert_eq!(classify("a", output), FailureKind::AddressInUse);
/// ```
#[must_use]
pub fn classify(test: &str, output: &str) -> FailureKind {
    let own = own_panic(test, output);
    let lowered = own.unwrap_or(output).to_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lowered.contains(n));
    if has(&["address already in use", "addrinuse"]) {
        FailureKind::AddressInUse
    } else if has(&["too many open files"]) {
        FailureKind::TooManyOpenFiles
    } else if has(&["connection refused"]) {
        FailureKind::ConnectionRefused
    } else if has(&["connection reset", "broken pipe"]) {
        FailureKind::ConnectionReset
    } else if has(&["poisonerror"]) {
        FailureKind::PanicElsewhere
    } else if has(&["timed out", "timeout", "would block", "wouldblock"]) {
        FailureKind::Timeout
    } else if has(&["no such file", "notfound"]) {
        FailureKind::MissingFile
    } else if has(&["assertion", "left:", "another test"]) {
        FailureKind::WrongData
    } else if own.is_some() {
        FailureKind::Other
    } else {
        FailureKind::PanicElsewhere
    }
}

/// The test thread's panic message, up to its backtrace or the next thread's panic.
fn own_panic<'a>(test: &str, output: &'a str) -> Option<&'a str> {
    let start = [
        format!("thread '{test}' ("),
        format!("thread '{test}' panicked"),
    ]
    .iter()
    .find_map(|marker| output.find(marker.as_str()))?;
    let rest = &output[start..];
    let end = rest
        .find("stack backtrace")
        .or_else(|| rest[1..].find("thread '").map(|i| i + 1))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_panic_wins_over_another_threads() {
        let output = "thread 'server' (3) panicked at s.rs:1:1:\nAddress already in use\n\
                      thread 'client' (4) panicked at c.rs:2:2:\nassertion `left == right` failed";
        assert_eq!(classify("client", output), FailureKind::WrongData);
        assert_eq!(classify("gone", output), FailureKind::AddressInUse);
        assert_eq!(
            classify("gone", "no panic text"),
            FailureKind::PanicElsewhere
        );
        assert_eq!(
            classify("t", "thread 't' panicked at x:\nboom"),
            FailureKind::Other
        );
    }

    #[test]
    fn every_kind_is_read() {
        for (text, kind) in [
            (
                "Too many open files (os error 24)",
                FailureKind::TooManyOpenFiles,
            ),
            (
                "Connection refused (os error 111)",
                FailureKind::ConnectionRefused,
            ),
            ("Connection reset by peer", FailureKind::ConnectionReset),
            ("PoisonError { .. }", FailureKind::PanicElsewhere),
            ("operation timed out", FailureKind::Timeout),
            (
                "No such file or directory (os error 2)",
                FailureKind::MissingFile,
            ),
        ] {
            assert_eq!(
                classify("t", &format!("thread 't' (1) panicked at x:\n{text}")),
                kind,
                "{text}"
            );
        }
    }
}
