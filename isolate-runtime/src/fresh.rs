//! `fresh_process`: the test runs in a child process of the test binary, as if in place.
//!
//! Under `cargo test` the tests of a binary are threads of one process, so the generated
//! code first calls [`fork`]: it re-runs the binary for just this test, by the name the runner
//! lists it under (its thread's: an `rstest` case is `<fn>::<case>`; `--exact <name>
//! r#<name> <CHILD><name> --nocapture --test-threads 1 --include-ignored --quiet`:
//! [`CHILD`] marks the child, in a third filter that no test matches), waits, forwards
//! the child's output through `print!`/`eprint!` (so the harness captures it as the
//! test's own), and ends the way the child's test ended: it returns on a pass, re-raises
//! the child's panic message with `resume_unwind` (so `#[should_panic(expected = ..)]`
//! compares the same message and nothing is printed twice), and fails when the child's
//! test returned a failure. In a process nextest started for this one test (its variables
//! and `--exact <name>`, see `has_own_process`), and in the child, it returns `None` and the
//! test runs in place.
//!
//! The child acquires everything the test asked for (groups, permits, `env`, ports, temp dirs)
//! through the same `enter` as any test: listeners and directories must live where the body
//! runs, and it keeps one code path with nextest. The parent holds nothing while the child
//! runs; it only takes `env` and `cwd` as a reader while it spawns it, so the child starts from
//! an environment and a directory no annotated writer is changing (a wait bounded by the test's
//! timeout, which fails the test like any other).
//!
//! The child tells the parent how the test ended on its stdout, in records that start with a
//! marker no test prints by chance ([`MARK`]): the messages of panics on its thread, and
//! whether the guard dropped on a return or a panic (or, when `enter` failed before there was
//! a guard, that the panic ended the test). When the test begins, the child sets the end of
//! its stdout's file, where its writes append, at [`BEGIN`] (the harness's first lines lie
//! before it, the gap is a hole): the test's own output is what lies from there to the `end`
//! record, the records taken out, and a file shorter than that says that no test began. The child
//! writes its stdout and stderr to unnamed files (memfds on Linux; elsewhere files in the lock
//! directory, unlinked at once), read once it has ended: no file is named in a directory per test
//! (on ext4, creating and removing one costs more than all the rest of the parent's work), and
//! unlike pipes they do not wake the parent at every write of the child.
//! While the test runs, its stderr goes to its stdout when the parent's harness captures
//! output: captured in place, both streams are one, in the order written, and so they stay.
//! The environment is the parent's, unchanged: std then hands it to the child as it is, where
//! a changed one is copied, variable by variable, for every child.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::FileExt;
use std::panic;
use std::path::PathBuf;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock, PoisonError};
use std::thread::ThreadId;
use std::time::Instant;

use crate::process_state::{self, State};
use crate::{Access, Error, Spec, DEFAULT_TIMEOUT};

/// Starts the argument that marks a child process, followed by the parent's pid, `\u{1}`, `1`
/// when the child's stderr joins its stdout while the test runs ([`ChildOf::joined`]) or `0`,
/// `\u{1}` and the test's name: a test filter no test matches (test names hold no control
/// characters). An argument, not an environment variable: processes the test starts do not
/// inherit it, and the parent's environment is passed on unchanged, without a copy.
const CHILD: &str = "\u{1}isolate-fresh-child\u{1}";
/// Where the test's output starts in the child's stdout file: the harness's first lines lie
/// before it (whatever lies beyond is cut off). Within the file's first page, which the
/// harness's first line has the kernel allocate: a test's first 2 KiB need no other.
const BEGIN: u64 = 2 << 10;
/// Starts each record of the child's report, which runs to the end of its line.
const MARK: &str = "\u{1}isolate-fresh-process\u{1}";

/// A test's return type, as far as a parent whose child passed must produce one.
///
/// Implemented for `()`, `Result<T, E>` (with `T: Passed`) and `ExitCode`: the return types
/// `fresh_process` supports.
pub trait Passed {
    /// The value of a passing test.
    fn passed() -> Self;
}

impl Passed for () {
    fn passed() -> Self {}
}

impl<T: Passed, E> Passed for Result<T, E> {
    fn passed() -> Self {
        Ok(T::passed())
    }
}

impl Passed for ExitCode {
    fn passed() -> Self {
        ExitCode::SUCCESS
    }
}

/// Whether the runner gave `test` a process of its own already: nextest, which runs each test
/// as `--exact <name>`. Its variables alone are not enough: a `cargo test` that a test run by
/// nextest starts inherits them, and runs many tests in one process.
fn has_own_process(test: &str) -> bool {
    let nextest = match std::env::var_os("NEXTEST_EXECUTION_MODE") {
        Some(mode) => mode == "process-per-test",
        None => std::env::var_os("NEXTEST").is_some_and(|value| value == "1"),
    };
    nextest && {
        let mut exact = false;
        let mut named = false;
        for arg in std::env::args_os() {
            exact |= arg == "--exact";
            named |= arg == test;
        }
        exact && named
    }
}

/// What the [`CHILD`] argument tells the child of a fresh-process test.
#[derive(Debug)]
struct ChildOf {
    parent: u32,
    /// Whether the test's stderr goes to its stdout, in the order written: the parent's harness
    /// captures the test's output, and shows both streams as one.
    joined: bool,
    test: String,
}

/// The [`CHILD`] argument, read once.
fn child_of() -> Option<&'static ChildOf> {
    static CHILD_OF: OnceLock<Option<ChildOf>> = OnceLock::new();
    CHILD_OF
        .get_or_init(|| {
            std::env::args_os().find_map(|arg| {
                let mut fields = arg.to_str()?.strip_prefix(CHILD)?.splitn(3, '\u{1}');
                Some(ChildOf {
                    parent: fields.next()?.parse().ok()?,
                    joined: fields.next()? == "1",
                    test: fields.next()?.to_owned(),
                })
            })
        })
        .as_ref()
}

/// The name the runner lists the test under. libtest names each test's thread after the test,
/// and a case that `rstest` or `test_case` generates from the fn is listed as `<fn>::<case>`,
/// a name the attribute cannot know; else (a fn called by a test, not one itself) the fn's.
fn listed_name(spec: &Spec) -> String {
    let test = spec.test();
    match std::thread::current().name() {
        Some(thread)
            if thread
                .strip_prefix(&*test)
                .is_some_and(|case| case.is_empty() || case.starts_with("::")) =>
        {
            thread.to_owned()
        }
        _ => test.into_owned(),
    }
}

/// Whether the harness captures this process's tests' output (no `--nocapture`), and so shows
/// what a test wrote to stdout and stderr as one stream, in the order written. Read once.
fn captured() -> bool {
    static CAPTURED: OnceLock<bool> = OnceLock::new();
    *CAPTURED.get_or_init(|| {
        // As libtest decides.
        let flag = std::env::args_os().any(|arg| arg == "--nocapture" || arg == "--no-capture");
        !flag && std::env::var_os("RUST_TEST_NOCAPTURE").map_or(true, |value| value == "0")
    })
}

/// Whether this process is the child of a fresh-process test.
pub(crate) fn in_child() -> bool {
    child_of().is_some()
}

/// For generated code: runs the test in a fresh process and returns its passing value, or
/// `None` when the test must run in place (in the child, in nextest's process for it, without
/// `fresh_process`).
///
/// # Panics
///
/// Re-raises the child's panic, and fails the test (a `#[should_panic]` one by returning) when
/// the child's test failed or the binary cannot be re-run.
#[must_use]
pub fn fork<T: Passed>(spec: &'static Spec) -> Option<T> {
    if !spec.runs_in_fresh_process() {
        return None;
    }
    let test = listed_name(spec);
    if let Some(child) = child_of().filter(|child| child.test == test) {
        // Like every process isolate starts, the child ends with its parent, however that
        // ends (Linux). A parent that died before this was set sends no signal: nobody waits
        // for this test any more.
        if !crate::sys::process::die_with_parent(child.parent) {
            std::process::exit(1);
        }
        // Before `enter`, so that its failure is reported too.
        begin_report(child.joined);
        // `enter` finds the lock directory at a process's first sweep, which the child skips:
        // found later, it would be found under a `TMPDIR` (or `ISOLATE_DIR`) the body set, and
        // this process's groups would exclude nobody else's. An error is the test's to report,
        // at its first use.
        let _ = crate::lockdir::root();
        return None;
    }
    if has_own_process(&test) {
        return None;
    }
    // `enter` sweeps for orphans of dead test processes, but not in the child: here, then.
    crate::orphans::sweep_now_and_then();
    let run = match run_child(spec, &test) {
        Ok(run) => run,
        Err(error) => return fail(spec, &format!("isolate: {error}")),
    };
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    match run.ending {
        // A `#[should_panic]` test ends as the child's harness judged it, which saw the panic
        // itself: the message recorded is re-raised when it agrees, else one that does. The
        // record may be missing or stale when the test replaced the panic hook that reads
        // messages without calling the one before it.
        Ending::Panicked(message) if spec.panics_expected() => {
            let expected = spec.expected_panic_message();
            // As libtest judges: a payload that is no text never contains the expected text.
            let agrees = |payload: &Payload| match (payload, expected) {
                (_, None) => true,
                (Payload::Text(message), Some(e)) => message.contains(e),
                (Payload::Other, Some(_)) => false,
            };
            match (run.status.success(), message) {
                (true, Some(message)) if agrees(&message) => resume(message),
                (true, _) => resume(Payload::Text(expected.unwrap_or_default().to_owned())),
                (false, Some(message)) if !agrees(&message) => resume(message),
                (false, _) => fail(
                    spec,
                    &format!(
                        "isolate: the test `{test}` panicked in its fresh process, not as \
                         expected; its message is unknown: the test replaced the panic hook \
                         without calling the one `std::panic::take_hook` returned, which \
                         `fresh_process` reads messages with"
                    ),
                ),
            }
        }
        Ending::Panicked(Some(message)) => resume(message),
        // As in place, where the replaced hook shows no message either.
        Ending::Panicked(None) => resume(Payload::Text(
            "the test panicked in its fresh process, with a panic hook of its own".to_owned(),
        )),
        Ending::Returned if run.status.success() || spec.panics_expected() => Some(T::passed()),
        // The body's `Err` or failing `ExitCode`, reported in the child's stderr.
        Ending::Returned => panic::resume_unwind(Box::new(format!(
            "the test returned a failure in its fresh process ({})",
            run.status
        ))),
        Ending::NotRun => fail(
            spec,
            &format!(
                "isolate: `fresh_process` re-ran the test binary for `{test}`, but it ran no test \
                 of that exact name: the child runs the test the runner lists under that name, so \
                 a fn that is not itself a test (a helper a test calls) cannot be re-run this way; \
                 put `fresh_process` on the test"
            ),
        ),
        // Even with a success status (`process::exit(0)`): the test never got to its end.
        Ending::Exited => fail(
            spec,
            &format!(
                "isolate: the fresh process of `{test}` ended ({}) before the test finished",
                run.status
            ),
        ),
    }
}

/// Ends the test with the child's panic payload: re-raised without the panic hook, which the
/// child ran already.
fn resume<T>(payload: Payload) -> T {
    match payload {
        Payload::Text(message) => panic::resume_unwind(Box::new(message)),
        // Not a string either, so that the harness judges it as it judged the child's: a
        // `#[should_panic(expected = ..)]` test fails on a payload that is no text.
        Payload::Other => panic::resume_unwind(Box::new(NotText)),
    }
}

/// The payload re-raised for a child's panic whose payload was neither a `&str` nor a
/// `String` (`panic_any(42)`): the parent cannot rebuild the value, only that it was no text.
#[derive(Debug)]
struct NotText;

/// A panic's payload, as far as the child can tell the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Payload {
    /// A `&str` or a `String`: its text.
    Text(String),
    /// Anything else, which `#[should_panic(expected = ..)]` never matches.
    Other,
}

/// Fails the test with `message`: a panic, or, for a `#[should_panic]` test (which a panic
/// would pass), a return.
fn fail<T: Passed>(spec: &Spec, message: &str) -> Option<T> {
    eprintln!("{message}");
    if spec.panics_expected() {
        Some(T::passed())
    } else {
        panic::resume_unwind(Box::new(message.to_owned()))
    }
}

/// How the child's test ended, from its report.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// No test of that name ran.
    NotRun,
    /// The body returned (a pass, an `Err`, or a `#[should_panic]` test that did not panic).
    Returned,
    /// The body (or the acquisition before it) panicked with this payload (`None`: the test
    /// replaced the panic hook that records it).
    Panicked(Option<Payload>),
    /// The process ended before the test did (`process::exit`, a signal, an abort).
    Exited,
}

#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    ending: Ending,
}

fn run_child(spec: &Spec, test: &str) -> Result<Run, Error> {
    // Looked up once: the test binary's path does not change while it runs.
    static EXE: OnceLock<PathBuf> = OnceLock::new();
    let exe = if let Some(exe) = EXE.get() {
        exe
    } else {
        let exe = crate::sys::own_binary().map_err(|e| {
            Error::io(
                "cannot find the test binary to re-run for `fresh_process`",
                e,
            )
        })?;
        EXE.get_or_init(|| exe)
    };
    // The attribute names the test as the user reads it (`loop` for `r#loop`); libtest lists
    // a raw identifier as written. Both names are filters: one of them is the test's, and no
    // other test can have the other.
    let raw = match test.rsplit_once("::") {
        Some((module, name)) => format!("{module}::r#{name}"),
        None => format!("r#{test}"),
    };
    let mut command = Command::new(exe);
    // As the runner started us, for `ps` and the harness: not `/proc/self/exe`.
    if let Some(name) = std::env::args_os().next() {
        std::os::unix::process::CommandExt::arg0(&mut command, name);
    }
    command
        .args(["--exact", test, &raw])
        .arg(format!(
            "{CHILD}{}\u{1}{}\u{1}{test}",
            std::process::id(),
            u8::from(captured())
        ))
        .args([
            "--nocapture",
            "--test-threads",
            "1",
            "--include-ignored",
            // Fewer harness lines to write and to skip: the report says how the test ended.
            "--quiet",
        ])
        .stdin(Stdio::null());
    // Held while the child starts, which inherits the environment and the directory: no
    // annotated writer is changing them meanwhile. Bounded like every wait of the test (a bad
    // `ISOLATE_TIMEOUT` is the child's to report, as its `enter` would in place).
    let timeout = crate::guard::wait_timeout(spec).unwrap_or(DEFAULT_TIMEOUT);
    let deadline = Instant::now() + timeout;
    let readers = [State::Env, State::Cwd]
        .into_iter()
        .map(|state| process_state::take(state, Access::Read, test, deadline, timeout))
        .collect::<Result<Vec<_>, Error>>()?;
    let (status, stdout, stderr) = run_and_wait(command, readers).map_err(|e| {
        Error::io(
            format!(
                "cannot re-run the test binary `{}` for `fresh_process`",
                std::env::current_exe()
                    .unwrap_or_else(|_| exe.clone())
                    .display()
            ),
            e,
        )
    })?;
    let (stdout, ending) = match stdout {
        Some(stdout) => {
            let stdout = String::from_utf8_lossy(&stdout);
            let (output, records) = split(&stdout);
            (output, ending(&records))
        }
        None => (String::new(), Ending::NotRun),
    };
    Ok(Run {
        status,
        stdout,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        ending,
    })
}

/// Runs the child, its stdout and stderr each in an unnamed file, not a pipe: the parent
/// sleeps until the child ends instead of waking for each of its writes (each a wake-up, a
/// poll and a read: about 20 µs of a 1 ms test on two cores, as much as rusty-fork's whole
/// lead), and no output can fill a file. Returns how it ended, what it wrote to stdout from
/// [`BEGIN`] on (`None` when it never got there: no test began) and to stderr.
fn run_and_wait(
    mut command: Command,
    readers: Vec<process_state::StateLock>,
) -> io::Result<(ExitStatus, Option<Vec<u8>>, Vec<u8>)> {
    let out = crate::sys::anonymous_file("isolate-fresh-stdout")?;
    let err = crate::sys::anonymous_file("isolate-fresh-stderr")?;
    command.stdout(out.try_clone()?).stderr(err.try_clone()?);
    let child = command.spawn();
    drop(readers);
    // Only for the child's end: a process the test left running (a server) may hold the files
    // open for long, and in place it would not hold the test up either.
    let status = child?.wait()?;
    Ok((
        status,
        written(&out, BEGIN)?,
        written(&err, 0)?.unwrap_or_default(),
    ))
}

/// What was written to `file` from offset `from` on when it is read (`None` when it is
/// shorter): after the child ended, so all of the child's output, and what a process it left
/// running wrote so far, but no more.
fn written(file: &File, from: u64) -> io::Result<Option<Vec<u8>>> {
    let Some(len) = file.metadata()?.len().checked_sub(from) else {
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|e| io::Error::new(io::ErrorKind::OutOfMemory, e))?;
    let mut bytes = vec![0; len];
    file.read_exact_at(&mut bytes, from)?;
    Ok(Some(bytes))
}

/// The test's part of the child's stdout split into its own output (up to its last `end`
/// record, without the records and the newline [`record`] put before each) and the records.
/// The last: an `end` record the test printed itself (a test of this very crate) ends nothing.
fn split(stdout: &str) -> (String, Vec<&str>) {
    let (mut output, mut records) = (String::new(), Vec::new());
    let mut ended = None;
    let mut rest = stdout;
    while let Some(at) = rest.find(MARK) {
        let before = &rest[..at];
        output.push_str(before.strip_suffix('\n').unwrap_or(before));
        let record = &rest[at + MARK.len()..];
        let (record, after) = record.split_once('\n').unwrap_or((record, ""));
        if record.starts_with("end ") {
            ended = Some(output.len());
        }
        records.push(record);
        rest = after;
    }
    match ended {
        Some(end) => output.truncate(end),
        // The process ended inside the test: all it printed.
        None => output.push_str(rest),
    }
    (output, records)
}

/// Reads the records of a test that began: the last of the ending records decides.
fn ending(records: &[&str]) -> Ending {
    let mut ending = Ending::Exited;
    let mut last_panic = None;
    for record in records {
        let payload = match record.strip_prefix("panic ") {
            Some(message) => Some(Payload::Text(unescape(message))),
            None => (*record == "panic-other").then_some(Payload::Other),
        };
        if let Some(payload) = payload {
            last_panic = Some(payload.clone());
            ending = Ending::Panicked(Some(payload));
        } else if *record == "end returned" {
            ending = Ending::Returned;
        } else if *record == "end panicked" {
            ending = Ending::Panicked(last_panic.clone());
        }
    }
    ending
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

/// The test's thread, in the child: only its panics are the test's.
static TEST_THREAD: OnceLock<ThreadId> = OnceLock::new();
/// Whether the test's guard (its [`ChildReport`]) is alive, in the child.
static GUARDED: AtomicBool = AtomicBool::new(false);

/// Writes one record on a line of its own, in one go: print's lock keeps other threads' output
/// out of it. Errors are ignored (in a panic hook or a drop, a panic would abort).
fn record(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let mut record = String::with_capacity(MARK.len() + line.len() + 2);
    record.push('\n');
    record.push_str(MARK);
    record.push_str(line);
    record.push('\n');
    let _ = stdout
        .write_all(record.as_bytes())
        .and_then(|()| stdout.flush());
}

/// In the child, while the test runs with its stderr joined to its stdout: the stderr to go
/// back to when it ends.
static STDERR: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// Records how the test ended, and gives stderr back (the harness's report of an `Err` comes
/// after, and belongs on stderr, like everything after the test).
fn end(how: &str) {
    record(how);
    let saved = STDERR.lock().unwrap_or_else(PoisonError::into_inner).take();
    if let Some(stderr) = saved {
        let _ = rustix::stdio::dup2_stderr(&stderr);
    }
}

/// In the child, from `fork`: marks where the test's output begins, joins stderr to stdout when
/// asked, and records from now on the messages of the panics on this thread.
fn begin_report(joined: bool) {
    static HOOK: Once = Once::new();
    let _ = TEST_THREAD.set(std::thread::current().id());
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if TEST_THREAD.get() == Some(&std::thread::current().id()) {
                match crate::panic_message::text(info.payload()) {
                    Some(message) => record(&format!("panic {}", escape(&message))),
                    None => record("panic-other"),
                }
                if !GUARDED.load(Ordering::SeqCst) {
                    // `enter` failed: no guard will end the test, this panic does.
                    end("end panicked");
                }
            }
            previous(info);
        }));
    });
    // The harness's lines so far are left behind, in front of a hole: no write, so nothing for
    // the kernel to allocate. The file is extended first, so that a test that ends the process
    // before it writes anything still shows that it began. The file is in append mode (see
    // `sys::anonymous_file`): what is written next lands at its end, `BEGIN`.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.flush();
    let _ = rustix::fs::ftruncate(&stdout, BEGIN);
    if joined {
        // The same open file as stdout, and so the same offset: both streams land in one, in
        // the order written, as the parent's harness would have captured them in place.
        let saved = std::io::stderr().as_fd().try_clone_to_owned();
        if let Ok(saved) = saved {
            if rustix::stdio::dup2_stderr(&stdout).is_ok() {
                *STDERR.lock().unwrap_or_else(PoisonError::into_inner) = Some(saved);
            }
        }
    }
}

/// In the child of a `fresh_process` test: records how the test ends, when dropped.
#[derive(Debug)]
pub(crate) struct ChildReport(());

impl ChildReport {
    /// `Some` in the child re-run for `spec`'s test.
    pub(crate) fn begin(spec: &Spec) -> Option<ChildReport> {
        let child = spec.runs_in_fresh_process()
            && child_of().is_some_and(|child| child.test == listed_name(spec));
        child.then(|| {
            GUARDED.store(true, Ordering::SeqCst);
            ChildReport(())
        })
    }
}

impl Drop for ChildReport {
    fn drop(&mut self) {
        end(if std::thread::panicking() {
            "end panicked"
        } else {
            "end returned"
        });
        GUARDED.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_ending_record_decides() {
        assert_eq!(ending(&[]), Ending::Exited);
        assert_eq!(ending(&["end returned"]), Ending::Returned);
        // A panic the test caught, then a return.
        assert_eq!(ending(&["panic a", "end returned"]), Ending::Returned);
        assert_eq!(
            ending(&["panic a", "panic two\\nlines", "end panicked"]),
            Ending::Panicked(Some(Payload::Text("two\nlines".into())))
        );
        // The acquisition failed: its guard dropped, then `enter` panicked.
        assert_eq!(
            ending(&["end returned", "panic isolate: timed out"]),
            Ending::Panicked(Some(Payload::Text("isolate: timed out".into())))
        );
        // The test replaced the hook that records messages.
        assert_eq!(ending(&["end panicked"]), Ending::Panicked(None));
        // `enter` failed before there was a guard.
        assert_eq!(
            ending(&["panic isolate: cannot parse"]),
            Ending::Panicked(Some(Payload::Text("isolate: cannot parse".into())))
        );
        // `panic_any(42)`: no text to compare, and none made up.
        assert_eq!(
            ending(&["panic-other", "end panicked"]),
            Ending::Panicked(Some(Payload::Other))
        );
    }

    #[test]
    fn escapes_round_trip() {
        for text in ["plain", "a\nb", "back\\slash\\n", "\\"] {
            assert_eq!(unescape(&escape(text)), text);
        }
    }

    /// What [`record`] writes.
    fn line(record: &str) -> String {
        format!("\n{MARK}{record}\n")
    }

    #[test]
    fn splits_the_output_from_the_records() {
        let stdout = format!(
            "hello\nwor{}ld\n{}ok\n{}\ntest result: FAILED",
            // A panic in the middle of a line the test had not ended.
            line("panic a\\nb"),
            line("end panicked"),
            // After the guard, as when `enter` fails.
            line("panic late"),
        );
        let (output, records) = split(&stdout);
        assert_eq!(output, "hello\nworld\n");
        assert_eq!(records, ["panic a\\nb", "end panicked", "panic late"]);
        // The process ended inside the test.
        assert_eq!(split("half"), ("half".to_owned(), Vec::<&str>::new()));
        // The test printed an `end` record itself: only the last one ends its output.
        let stdout = format!("a{}b{}c", line("end returned"), line("end panicked"));
        assert_eq!(split(&stdout).0, "ab");
    }
}
