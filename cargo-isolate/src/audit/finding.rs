//! One offender found in one file.

use super::Kind;
use serde::Serialize;

/// An offender: where it is, what kind, why it breaks and the attribute that fixes it.
/// Serialised as one JSON line by `audit --format json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, relative to the workspace root.
    pub file: String,
    /// 1-based line of the offending token.
    pub line: usize,
    /// 1-based column of the offending token.
    pub column: usize,
    /// What is shared.
    pub kind: Kind,
    /// The enclosing fn's name (a module's, for an attribute on a module), or `None` outside any.
    pub test: Option<String>,
    /// Why it breaks, and under which runner.
    pub message: String,
    /// The `#[isolated(...)]` argument (or change) that fixes it.
    pub fix: String,
}
