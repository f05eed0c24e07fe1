//! A child's stdout and stderr: read line by line by two threads, forwarded to the test's own
//! output, and the last lines kept for [`Child::output_tail`](crate::Child::output_tail), error
//! messages and [`ready::line`](crate::ready::line).
//!
//! The reader threads are spawned by the test's thread, and std hands a thread's output capture
//! to the threads it spawns: libtest therefore shows the child's lines with a failing test's
//! output and hides them for a passing one, exactly like the test's own prints.

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Lines kept per child; older ones are dropped.
pub(crate) const KEPT_LINES: usize = 200;
/// Longer lines are cut here, so one runaway line cannot hold megabytes.
const LINE_MAX: usize = 2_000;

/// What the readers have seen so far.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The last [`KEPT_LINES`] lines, stdout and stderr interleaved as they arrived.
    pub(crate) lines: VecDeque<String>,
    /// Every line ever read, also those dropped from `lines`.
    pub(crate) total: u64,
    /// Streams that reached their end (0, 1 or 2).
    pub(crate) closed: u8,
    /// What [`Output::watch_for`] looks for, and the first line that held it.
    needles: Vec<(String, Option<String>)>,
}

/// Shared by the readers and the waits: waits sleep on `changed` so that a new line or a
/// closed stream (the child exiting) ends their sleep at once.
#[derive(Debug, Default)]
pub(crate) struct Output {
    seen: Mutex<Seen>,
    changed: Condvar,
}

/// Both streams are read.
const STREAMS: u8 = 2;

impl Output {
    /// Waits up to `limit` for both streams to reach their end, so that an error message about
    /// a child that exited shows all it printed.
    pub(crate) fn wait_closed(&self, limit: Duration) -> bool {
        let guard = self.seen();
        let (seen, _) = self
            .changed
            .wait_timeout_while(guard, limit, |seen| seen.closed < STREAMS)
            .unwrap_or_else(PoisonError::into_inner);
        seen.closed >= STREAMS
    }

    pub(crate) fn seen(&self) -> MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps up to `limit`, or until a line arrives or a stream closes.
    pub(crate) fn sleep(&self, limit: Duration, total_before: u64, closed_before: u8) {
        let guard = self.seen();
        let _ = self.changed.wait_timeout_while(guard, limit, |seen| {
            seen.total == total_before && seen.closed == closed_before
        });
    }

    /// The last `n` kept lines, each indented for an error message.
    pub(crate) fn tail(&self, n: usize) -> String {
        let seen = self.seen();
        let skip = seen.lines.len().saturating_sub(n);
        seen.lines
            .iter()
            .skip(skip)
            .fold(String::new(), |mut text, line| {
                text.push_str("  | ");
                text.push_str(line);
                text.push('\n');
                text
            })
    }

    /// Starts looking for a line that contains `text`: among the kept lines now, then in each
    /// line as it is read, so a line is never missed by a probe that checks now and then.
    /// Returns the needle's number for [`found`](Output::found).
    pub(crate) fn watch_for(&self, text: &str) -> usize {
        let mut seen = self.seen();
        let found = seen.lines.iter().find(|line| line.contains(text)).cloned();
        seen.needles.push((text.to_owned(), found));
        seen.needles.len() - 1
    }

    /// The first line that held the needle `watch_for` numbered `needle`, if one did.
    pub(crate) fn found(&self, needle: usize) -> Option<String> {
        self.seen()
            .needles
            .get(needle)
            .and_then(|(_, found)| found.clone())
    }

    pub(crate) fn push(&self, line: String) {
        let mut seen = self.seen();
        for (text, found) in &mut seen.needles {
            if found.is_none() && line.contains(text.as_str()) {
                *found = Some(line.clone());
            }
        }
        if seen.lines.len() == KEPT_LINES {
            seen.lines.pop_front();
        }
        seen.lines.push_back(line);
        seen.total += 1;
        drop(seen);
        self.changed.notify_all();
    }

    fn close(&self) {
        self.seen().closed += 1;
        self.changed.notify_all();
    }
}

/// Which stream a reader forwards, so stdout lines go to the test's stdout and stderr lines to
/// its stderr.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Reads `pipe` line by line on a new thread (which inherits the caller's output capture),
/// prefixing each forwarded line with `label` (`python3[1234]`).
pub(crate) fn read(
    pipe: impl Read + Send + 'static,
    stream: Stream,
    label: String,
    output: std::sync::Arc<Output>,
) -> std::io::Result<JoinHandle<()>> {
    crate::background::spawn(
        format!("isolate-output-{label}"),
        Box::new(move || {
            let mut reader = BufReader::new(pipe);
            let mut bytes = Vec::new();
            let mut console = Console(stream);
            let mut forwarded = String::new();
            loop {
                bytes.clear();
                let (cut, ended) = read_line(&mut reader, &mut bytes);
                if ended && bytes.is_empty() {
                    break;
                }
                let mut line = String::from_utf8_lossy(&bytes).trim_end().to_owned();
                if cut || line.len() > LINE_MAX {
                    let mut cut = LINE_MAX.min(line.len());
                    while !line.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    line.truncate(cut);
                    line.push_str(" [...]");
                }
                let _ = forward(&mut console, &mut forwarded, &label, &line);
                output.push(line);
                if ended {
                    break;
                }
            }
            output.close();
        }),
    )
}

/// The test's stdout or stderr, written through `print!` and `eprint!`: only the macros honour
/// the test's output capture.
struct Console(Stream);

impl fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        // One `{}` and nothing around it: one write of `text`, one `write(2)` when uncaptured.
        match self.0 {
            Stream::Stdout => print!("{text}"),
            Stream::Stderr => eprint!("{text}"),
        }
        Ok(())
    }
}

/// Writes `line`, prefixed with `label`, to `out` in one call, built in `buffer` (kept between
/// lines): one `write(2)` for a line below a pipe's atomic size, so the lines of other children
/// and processes sharing the stream (nextest, `--nocapture`) never land inside it.
fn forward(out: &mut impl fmt::Write, buffer: &mut String, label: &str, line: &str) -> fmt::Result {
    buffer.clear();
    buffer.push_str(label);
    buffer.push_str(": ");
    buffer.push_str(line);
    buffer.push('\n');
    out.write_str(buffer)
}

/// Reads one line into `bytes`, keeping at most a few bytes more than [`LINE_MAX`] of it and
/// skipping the rest: a child that writes megabytes without a newline must not make the test
/// hold them. Returns whether the line was cut, and whether the stream ended (at its end or
/// on an error) rather than at a newline.
fn read_line(reader: &mut impl BufRead, bytes: &mut Vec<u8>) -> (bool, bool) {
    // The cut lands on a character boundary later: keep a whole last character.
    const KEEP: usize = LINE_MAX + 4;
    let mut cut = false;
    loop {
        let buffer = match reader.fill_buf() {
            Ok([]) => return (cut, true),
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return (cut, true),
        };
        let (used, newline) = match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => (at + 1, true),
            None => (buffer.len(), false),
        };
        let room = KEEP.saturating_sub(bytes.len());
        bytes.extend_from_slice(&buffer[..used.min(room)]);
        cut |= used > room;
        reader.consume(used);
        if newline {
            return (cut, false);
        }
    }
}

/// Joins the readers, waiting at most until `deadline`: a grandchild that escaped the process
/// group may hold a pipe open forever, and a test must not hang on it.
pub(crate) fn join(readers: Vec<JoinHandle<()>>, output: &Output, deadline: Instant) {
    // Closed readers are returning; the others are abandoned to their pipe.
    let all_closed = output.wait_closed(deadline.saturating_duration_since(Instant::now()));
    for reader in readers {
        if all_closed || reader.is_finished() {
            let _ = reader.join();
        }
    }
}

/// A fixture child's output, written to files instead of pipes (a pipe's reader would be a test
/// process that may exit long before the child) and followed like `tail -f` until
/// [`finish`](Follow::finish): by then nothing more is wanted from them.
#[derive(Debug)]
pub(crate) struct Follow {
    paths: [std::path::PathBuf; 2],
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Follow {
    /// Points `command`'s stdout and stderr at `<log>.out` and `<log>.err`, appending.
    pub(crate) fn create(
        command: &mut std::process::Command,
        log: &std::path::Path,
    ) -> Result<Follow, crate::Error> {
        use crate::error::IoContext;
        let paths = ["out", "err"].map(|ext| {
            let mut path = log.as_os_str().to_owned();
            path.push(".");
            path.push(ext);
            std::path::PathBuf::from(path)
        });
        let open = |path: &std::path::Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .context(|| format!("cannot create the output file `{}`", path.display()))
        };
        command.stdout(open(&paths[0])?).stderr(open(&paths[1])?);
        Ok(Follow {
            paths,
            done: std::sync::Arc::default(),
        })
    }

    /// Readers of both files, from their start; a file that cannot be opened reads as empty.
    pub(crate) fn readers(&self) -> [Option<(Box<dyn Read + Send>, Stream)>; 2] {
        let reader = |path: &std::path::Path, stream| {
            let file = std::fs::File::open(path).ok()?;
            let reader: Box<dyn Read + Send> = Box::new(Tail {
                file,
                done: std::sync::Arc::clone(&self.done),
            });
            Some((reader, stream))
        };
        [
            reader(&self.paths[0], Stream::Stdout),
            reader(&self.paths[1], Stream::Stderr),
        ]
    }

    /// Lets the readers end once they have read what is there.
    pub(crate) fn finish(&self) {
        self.done.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// A file read as a stream that ends only when told: at its end it waits for more.
struct Tail {
    file: std::fs::File,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Read for Tail {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let read = self.file.read(buf)?;
            if read > 0 {
                return Ok(read);
            }
            if self.done.load(std::sync::atomic::Ordering::Acquire) {
                // What was written between the last read and the flag.
                return self.file.read(buf);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records each write it gets.
    #[derive(Default)]
    struct Writes(Vec<String>);

    impl fmt::Write for Writes {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            self.0.push(text.to_owned());
            Ok(())
        }
    }

    #[test]
    fn a_forwarded_line_is_one_write() {
        let mut writes = Writes::default();
        let mut buffer = String::new();
        forward(&mut writes, &mut buffer, "sh[42]", "a longer first line").unwrap();
        forward(&mut writes, &mut buffer, "sh[42]", "two").unwrap();
        forward(&mut writes, &mut buffer, "sh[42]", "").unwrap();
        assert_eq!(
            writes.0,
            [
                "sh[42]: a longer first line\n",
                "sh[42]: two\n",
                "sh[42]: \n"
            ]
        );
    }
}
