//! One offender found in one file.

use super::Kind;
use serde::Serialize;

/// An offender: where it is, what kind, why it breaks and the attribute that fixes it.
/// Serialised as one JSON line by `audit --format json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The file, relative to the workspace root.
    pub file: String,
    /// 1-based line of the offending token, or of the test's call that leads to it (see `via`).
    pub line: usize,
    /// 1-based column of the offending token, or of the test's call that leads to it.
    pub column: usize,
    /// What is shared.
    pub kind: Kind,
    /// The enclosing fn's name (a module's, for an attribute on a module), or `None` outside any.
    pub test: Option<String>,
    /// Why it breaks, and under which runner.
    pub message: String,
    /// The `#[isolated(...)]` argument (or change) that fixes it.
    pub fix: String,
    /// For an offender in a helper the test calls, in its own file or another (`tests/common`):
    /// the calls from the test to that helper, as written (`common::setup`, `write_env`).
    /// `file`, `line` and `column` are then the test's first call, and `cause` the offending
    /// token. Empty (and left out of the JSON) otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub via: Vec<String>,
    /// Where the offending token is, for a finding reached through `via`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Place>,
    /// Why a call in `via` is linked to its helper by the method's name only (the receiver's
    /// type is not written where it is called): the finding may be wrong. Left out of the
    /// JSON when every call was resolved by its path or its receiver's type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guess: Option<String>,
    /// The inline module (`tests`, `a::b`) on which one attribute, `module_fix`, fixes every
    /// finding of the module: the findings of one file and module are one group, which the
    /// report shows once. Left out of the JSON (with `module_fix`) when no one attribute does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The attribute that, on `module`, fixes every finding of the module
    /// (`#[isolated(env)]`); a test's own `#[isolated]` combines with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_fix: Option<String>,
}

/// A place in a file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Place {
    /// The file, relative to the workspace root.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}
