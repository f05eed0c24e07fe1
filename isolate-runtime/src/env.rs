//! Every `ISOLATE_*` environment variable, parsed in one place. A value that cannot be used
//! is an error naming the variable and the accepted forms, never a silent default.

use std::path::PathBuf;
use std::time::Duration;

use crate::Error;

/// Where lock files, reservations and temp dirs live (default: `<temp dir>/isolate-<uid>`).
pub const DIR: &str = "ISOLATE_DIR";
/// Overrides every wait's timeout, the attribute's `timeout` included.
pub const TIMEOUT: &str = "ISOLATE_TIMEOUT";
/// `on-failure` (default), `always` or `never`: when temp dirs are kept.
pub const KEEP_TMPDIR: &str = "ISOLATE_KEEP_TMPDIR";
/// Kept temp dirs older than this many days are pruned (default 7; 0 disables pruning).
pub const KEEP_DAYS: &str = "ISOLATE_KEEP_DAYS";
/// The machine-wide socket budget, in permits.
pub const SOCKET_BUDGET: &str = "ISOLATE_SOCKET_BUDGET";
/// The band reserved port numbers come from, `LOW-HIGH` inclusive.
pub const PORT_BAND: &str = "ISOLATE_PORT_BAND";

fn read(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    Error::config(format!(
        "cannot parse `{name}={value}`: expected {expected}"
    ))
}

pub(crate) fn dir() -> Option<PathBuf> {
    std::env::var_os(DIR)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

pub(crate) fn timeout() -> Result<Option<Duration>, Error> {
    read(TIMEOUT)
        .map(|value| {
            parse_duration(&value)
                .filter(|duration| !duration.is_zero())
                .ok_or_else(|| {
                    invalid(
                        TIMEOUT,
                        &value,
                        "a positive duration like `500ms`, `30s`, `2m` or `1m30s`",
                    )
                })
        })
        .transpose()
}

/// When temp dirs are kept after the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepPolicy {
    OnFailure,
    Always,
    Never,
}

pub(crate) fn keep_policy() -> Result<KeepPolicy, Error> {
    match read(KEEP_TMPDIR).as_deref() {
        None | Some("on-failure") => Ok(KeepPolicy::OnFailure),
        Some("always") => Ok(KeepPolicy::Always),
        Some("never") => Ok(KeepPolicy::Never),
        Some(other) => Err(invalid(
            KEEP_TMPDIR,
            other,
            "one of `on-failure`, `always`, `never`",
        )),
    }
}

pub(crate) fn keep_days() -> Result<u64, Error> {
    read(KEEP_DAYS).map_or(Ok(7), |value| {
        value.trim().parse().map_err(|_| {
            invalid(
                KEEP_DAYS,
                &value,
                "a whole number of days, like `7` (0 disables pruning)",
            )
        })
    })
}

pub(crate) fn socket_budget() -> Result<Option<u32>, Error> {
    read(SOCKET_BUDGET)
        .map(|value| match value.trim().parse::<u32>() {
            Ok(budget) if budget > 0 => Ok(budget),
            _ => Err(invalid(
                SOCKET_BUDGET,
                &value,
                "a positive whole number of permits, like `512`",
            )),
        })
        .transpose()
}

pub(crate) fn port_band() -> Result<Option<(u16, u16)>, Error> {
    read(PORT_BAND)
        .map(|value| {
            let parsed = value.split_once('-').and_then(|(low, high)| {
                Some((
                    low.trim().parse::<u16>().ok()?,
                    high.trim().parse::<u16>().ok()?,
                ))
            });
            match parsed {
                Some((low, high)) if low >= 1024 && low <= high => Ok((low, high)),
                _ => Err(invalid(
                    PORT_BAND,
                    &value,
                    "an inclusive range like `20000-30000` within 1024-65535",
                )),
            }
        })
        .transpose()
}

/// Parses `"500ms"`, `"30s"`, `"2m"`, `"1h"` and sums like `"1m30s"`: the attribute's forms.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let millis = match &rest[..unit] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        rest = &rest[unit..];
        total = total.checked_add(Duration::from_millis(number.checked_mul(millis)?))?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_hours(2)));
        for bad in ["", "5", "s5", "1.5s", "5 days"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
