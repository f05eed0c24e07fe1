//! Every `ISOLATE_*` environment variable, parsed in one place. A value that cannot be used
//! is an error naming the variable and the accepted forms, never a silent default.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::Error;

/// Where lock files, reservations and temp dirs live (default: `<temp dir>/isolate-<uid>`).
pub const DIR: &str = "ISOLATE_DIR";
/// Overrides the timeout of every wait for what a test asked for (groups, `env` and `cwd`,
/// permits, reserved numbers, a fixture), the attribute's `timeout` included; a `ready` probe's
/// or `eventually`'s own `within` stays. Read once per process.
pub const TIMEOUT: &str = "ISOLATE_TIMEOUT";
/// `on-failure` (default), `always` or `never`: when temp dirs are kept.
pub const KEEP_TMPDIR: &str = "ISOLATE_KEEP_TMPDIR";
/// Kept temp dirs older than this many days are pruned (default 7; 0 disables pruning).
pub const KEEP_DAYS: &str = "ISOLATE_KEEP_DAYS";
/// The machine-wide socket budget, in permits. Read once per process.
pub const SOCKET_BUDGET: &str = "ISOLATE_SOCKET_BUDGET";
/// The band reserved port numbers come from, `LOW-HIGH` inclusive.
pub const PORT_BAND: &str = "ISOLATE_PORT_BAND";

/// The variable's value: `None` when unset or empty (the default applies), an error when it
/// is not Unicode or only whitespace (a mistake, not a choice), else the value trimmed.
fn read(name: &str) -> Result<Option<String>, Error> {
    let Some(raw) = std::env::var_os(name).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let Some(value) = raw.to_str() else {
        return Err(Error::config(format!(
            "cannot use `{name}={}`: the value is not valid Unicode",
            raw.to_string_lossy()
        )));
    };
    if value.trim().is_empty() {
        return Err(Error::config(format!(
            "cannot use `{name}={value:?}`: the value is blank; unset `{name}` for the default"
        )));
    }
    Ok(Some(value.trim().to_owned()))
}

fn invalid(name: &str, value: &str, expected: &str) -> Error {
    Error::config(format!(
        "cannot parse `{name}={value}`: expected {expected}"
    ))
}

/// `ISOLATE_DIR`: an absolute path, since every process must find the same directory whatever
/// its working directory, and one without surrounding whitespace (a mistake, never meant).
pub(crate) fn dir() -> Result<Option<PathBuf>, Error> {
    let Some(value) = std::env::var_os(DIR).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(&value);
    let text = value.to_string_lossy();
    let problem = if text.trim().is_empty() {
        "it is blank"
    } else if text.trim() != text {
        "it starts or ends with whitespace"
    } else if path.is_relative() {
        "it is relative, so processes with different working directories would not share it"
    } else {
        return Ok(Some(path));
    };
    Err(Error::config(format!(
        "cannot use `{DIR}={text:?}`: {problem}; expected an absolute path like `/tmp/isolate`"
    )))
}

/// `ISOLATE_TIMEOUT`, read once per process: a test's environment is set before the process
/// starts (tests that vary it run child processes), and reading it costs a scan of the whole
/// environment under its lock on every test. Since it overrides every wait, whether it is set
/// is also where every wait's timeout came from: what [`raise_the_wait`] tells.
pub(crate) fn timeout() -> Result<Option<Duration>, Error> {
    Ok(timeout_setting()?.map(|(_, wait)| wait))
}

/// `ISOLATE_TIMEOUT` as written, with the wait it sets.
fn timeout_setting() -> Result<Option<(&'static str, Duration)>, Error> {
    static SETTING: OnceLock<Result<Option<(String, Duration)>, String>> = OnceLock::new();
    match SETTING.get_or_init(|| parse_timeout().map_err(|e| e.to_string())) {
        Ok(setting) => Ok(setting
            .as_ref()
            .map(|(written, wait)| (written.as_str(), *wait))),
        Err(message) => Err(Error::config(message.clone())),
    }
}

fn parse_timeout() -> Result<Option<(String, Duration)>, Error> {
    let Some(value) = read(TIMEOUT)? else {
        return Ok(None);
    };
    match isolate_rules::parse_duration(&value) {
        // It parsed: only its size is wrong.
        Some(duration) if duration.is_zero() => Err(Error::config(format!(
            "cannot use `{TIMEOUT}={value}`: a wait of zero is too small, every wait would time \
             out at once; the smallest accepted value is `{}`",
            isolate_rules::DURATION_MIN
        ))),
        Some(duration) => Ok(Some((value, duration))),
        None => Err(invalid(TIMEOUT, &value, isolate_rules::DURATION_FORMS)),
    }
}

/// How to raise a wait for what a test asked for, for the message of one that ran out: while
/// `ISOLATE_TIMEOUT` is set the attribute's `timeout` does nothing, so only the variable is named.
pub(crate) fn raise_the_wait() -> String {
    advice(timeout_setting().ok().flatten().map(|(written, _)| written))
}

fn advice(timeout_set_to: Option<&str>) -> String {
    match timeout_set_to {
        Some(written) => {
            format!("the wait is `{TIMEOUT}={written}` (set in the environment); raise it")
        }
        None => format!(
            "raise the wait with `timeout = \"...\"` on the test or the `{TIMEOUT}` environment \
             variable"
        ),
    }
}

/// When temp dirs are kept after the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeepPolicy {
    OnFailure,
    Always,
    Never,
}

pub(crate) fn keep_policy() -> Result<KeepPolicy, Error> {
    match read(KEEP_TMPDIR)?.as_deref() {
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

/// How old a kept temp dir must be to be pruned; `None` when pruning is off (`0`).
pub(crate) fn keep_days() -> Result<Option<Duration>, Error> {
    let Some(value) = read(KEEP_DAYS)? else {
        return Ok(Some(Duration::from_secs(7 * 86_400)));
    };
    let days: u64 = value.parse().map_err(|_| {
        invalid(
            KEEP_DAYS,
            &value,
            "a whole number of days, like `7` (0 disables pruning)",
        )
    })?;
    match days.checked_mul(86_400) {
        Some(0) => Ok(None),
        Some(seconds) => Ok(Some(Duration::from_secs(seconds))),
        None => Err(invalid(
            KEEP_DAYS,
            &value,
            "a whole number of days that fits in seconds, like `7` (0 disables pruning)",
        )),
    }
}

pub(crate) fn socket_budget() -> Result<Option<u32>, Error> {
    read(SOCKET_BUDGET)?
        .map(|value| match value.parse::<u32>() {
            Ok(budget) if budget > 0 => Ok(budget),
            _ => Err(invalid(
                SOCKET_BUDGET,
                &value,
                "a positive whole number of permits below 2^32, like `512`",
            )),
        })
        .transpose()
}

/// `ISOLATE_PORT_BAND`, which must lie outside the kernel's ephemeral range: a number inside it
/// could be handed to anyone binding port 0, which is what a reservation promises it is not.
pub(crate) fn port_band() -> Result<Option<(u16, u16)>, Error> {
    let Some(value) = read(PORT_BAND)? else {
        return Ok(None);
    };
    let parsed = value.split_once('-').and_then(|(low, high)| {
        Some((
            low.trim().parse::<u16>().ok()?,
            high.trim().parse::<u16>().ok()?,
        ))
    });
    let (low, high) = match parsed {
        Some((low, high)) if low >= 1024 && low <= high => (low, high),
        _ => {
            return Err(invalid(
                PORT_BAND,
                &value,
                "an inclusive range like `20000-30000` within 1024-65535",
            ))
        }
    };
    let (eph_low, eph_high) = crate::sys::ephemeral_range();
    if low <= eph_high && eph_low <= high {
        return Err(Error::config(format!(
            "cannot use `{PORT_BAND}={value}`: it overlaps the kernel's ephemeral range \
             {eph_low}-{eph_high}, whose numbers the kernel hands to anyone binding port 0; \
             choose a band outside it"
        )));
    }
    Ok(Some((low, high)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advice_names_only_the_knob_in_force() {
        assert_eq!(
            advice(None),
            "raise the wait with `timeout = \"...\"` on the test or the `ISOLATE_TIMEOUT` \
             environment variable"
        );
        // The attribute's `timeout` does nothing while the variable is set.
        assert_eq!(
            advice(Some("90s")),
            "the wait is `ISOLATE_TIMEOUT=90s` (set in the environment); raise it"
        );
    }
}
