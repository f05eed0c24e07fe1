//! Who holds a lock: one line per holder, written into the lock file while held, read back
//! when a wait times out.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One holder's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    pub(crate) pid: u32,
    pub(crate) since_ms: u64,
    pub(crate) test: String,
    pub(crate) detail: String,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Holder {
    pub(crate) fn me(test: &str, detail: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            since_ms: now_ms(),
            test: test.to_owned(),
            detail: detail.to_owned(),
        }
    }

    pub(crate) fn line(&self) -> String {
        // The test name goes last: it is the only field that could contain spaces.
        format!(
            "{} {} {} {}\n",
            self.pid, self.since_ms, self.detail, self.test
        )
    }

    fn parse(line: &str) -> Option<Holder> {
        let mut fields = line.splitn(4, ' ');
        Some(Holder {
            pid: fields.next()?.parse().ok()?,
            since_ms: fields.next()?.parse().ok()?,
            detail: fields.next()?.to_owned(),
            test: fields.next()?.to_owned(),
        })
    }

    /// Whether the process is still alive (always assumed where `/proc` is missing).
    pub(crate) fn alive(&self) -> bool {
        self.pid == std::process::id()
            || !std::path::Path::new("/proc/self").exists()
            || std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    pub(crate) fn describe(&self) -> String {
        let held = Duration::from_millis(now_ms().saturating_sub(self.since_ms));
        format!(
            "`{}` (pid {}, for {:.1}s)",
            self.test,
            self.pid,
            held.as_secs_f64()
        )
    }
}

/// Appends `holder` to the file (opened in append mode, so concurrent writers don't clobber).
pub(crate) fn record(mut file: &File, holder: &Holder) {
    let _ = file.write_all(holder.line().as_bytes());
}

/// Live holders recorded in `file`, newest last.
pub(crate) fn read(mut file: &File) -> Vec<Holder> {
    let mut text = String::new();
    let _ = file.rewind().and_then(|()| file.read_to_string(&mut text));
    text.lines()
        .filter_map(Holder::parse)
        .filter(Holder::alive)
        .collect()
}

/// The record in one holder file's text.
pub(crate) fn read_line(text: &str) -> Option<Holder> {
    text.lines().find_map(Holder::parse)
}

/// "held by `a` (pid 1, for 2.0s), `b` (...)", or a note that nobody live is recorded.
pub(crate) fn describe_all(holders: &[Holder]) -> String {
    if holders.is_empty() {
        return "no live holder is recorded; other waiters may be ahead".to_owned();
    }
    let shown: Vec<String> = holders.iter().rev().take(4).map(Holder::describe).collect();
    let more = holders.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("held by {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_line() {
        let holder = Holder::me("crate::tests::with spaces", "exclusive");
        assert_eq!(Holder::parse(holder.line().trim_end()), Some(holder));
    }
}
