//! Implementation detail of the `isolate` crate: the rules that `#[isolated]` checks at compile
//! time and the runtime checks for hand-built specs and environment variables, written once so
//! the two can never disagree.
//!
//! It has no dependencies, so the proc-macro crate pays nothing for sharing it.

use std::fmt;
use std::time::Duration;

/// The longest group name, in bytes. Group names become lock-file names; with the worst-case
/// percent-encoding of `:` and `/` a 64-byte name stays far below every file system's limit.
pub const GROUP_NAME_MAX: usize = 64;

/// The characters a group name may use, as the error message lists them.
pub const GROUP_NAME_ALPHABET: &str = "ASCII letters, digits, `_`, `-`, `.`, `:` or `/`";

/// Why a group name was refused.
///
/// # Examples
///
/// ```
/// use isolate_rules::{check_group_name, GroupNameError};
///
/// assert!(check_group_name("db/users:v2").is_ok());
/// assert_eq!(check_group_name(""), Err(GroupNameError::Empty));
/// assert_eq!(
///     check_group_name("a b").unwrap_err().to_string(),
///     "invalid group name `a b`: use 1 to 64 ASCII letters, digits, `_`, `-`, `.`, `:` or `/`"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupNameError {
    /// The name is empty.
    Empty,
    /// The name is longer than [`GROUP_NAME_MAX`] bytes or uses a character outside the
    /// alphabet; holds the name as given.
    Invalid(String),
}

impl fmt::Display for GroupNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupNameError::Empty => f.write_str("group name must not be empty"),
            GroupNameError::Invalid(name) => write!(
                f,
                "invalid group name `{}`: use 1 to {GROUP_NAME_MAX} {GROUP_NAME_ALPHABET}",
                name.escape_debug()
            ),
        }
    }
}

impl std::error::Error for GroupNameError {}

/// Checks a group name: 1 to [`GROUP_NAME_MAX`] bytes of ASCII letters, digits and `_-.:/`.
///
/// # Errors
///
/// Says which rule the name breaks.
pub fn check_group_name(name: &str) -> Result<(), GroupNameError> {
    if name.is_empty() {
        return Err(GroupNameError::Empty);
    }
    let valid = name.len() <= GROUP_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:/".contains(&b));
    if valid {
        Ok(())
    } else {
        Err(GroupNameError::Invalid(name.to_owned()))
    }
}

/// The duration forms, as error messages list them.
pub const DURATION_FORMS: &str = "a duration like `500ms`, `30s`, `2m`, `1h` or `1m30s`";

/// The smallest duration above zero the syntax can write: it counts whole milliseconds.
pub const DURATION_MIN: &str = "1ms";

/// Parses the duration syntax of the attribute's `timeout`, `ISOLATE_TIMEOUT` and every
/// `within`: whole numbers with the units `ms`, `s`, `m`, `h`, summed when written one after
/// another (`"1m30s"`). Surrounding whitespace is ignored; nothing else is accepted.
///
/// Returns `None` for anything else, including sums that overflow.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use isolate_rules::parse_duration;
///
/// assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
/// assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
/// assert_eq!(parse_duration("1.5s"), None);
/// ```
#[must_use]
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total_ms: u64 = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale: u64 = match &rest[..unit] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        rest = &rest[unit..];
        total_ms = total_ms.checked_add(number.checked_mul(scale)?)?;
    }
    Some(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3_600)));
        assert_eq!(parse_duration(" 1m30s "), Some(Duration::from_secs(90)));
        for bad in [
            "",
            "   ",
            "30",
            "s",
            "s5",
            "1.5s",
            "30 s",
            "-1s",
            "5 days",
            "99999999999999999999h",
            "18446744073709551615h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_smallest_duration_is_the_smallest_above_zero() {
        assert_eq!(parse_duration(DURATION_MIN), Some(Duration::from_millis(1)));
        // Nothing between zero and it can be written.
        for zero in ["0ms", "0s", "0m0s", "0h"] {
            assert_eq!(parse_duration(zero), Some(Duration::ZERO), "{zero}");
        }
    }

    #[test]
    fn group_names() {
        for good in ["ws", "db/users:v2", "a.b-c_d", &"x".repeat(GROUP_NAME_MAX)] {
            assert_eq!(check_group_name(good), Ok(()), "{good}");
        }
        assert_eq!(check_group_name(""), Err(GroupNameError::Empty));
        for bad in ["a b", "é", "a\0b", "%41", &"x".repeat(GROUP_NAME_MAX + 1)] {
            assert_eq!(
                check_group_name(bad),
                Err(GroupNameError::Invalid(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
