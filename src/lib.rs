// The crate docs stand alone on docs.rs: the README also names repository commands and files.
#![doc = include_str!("lib.md")]
#![doc(test(attr(deny(warnings))))]

/// Gives the test it is written on what it must not share.
///
/// Put it on a test function (above or below `#[test]`, `#[tokio::test]`; above `#[rstest]` and
/// `#[test_case]`) or on an inline `mod tests { ... }`, where it applies to every test inside,
/// nested inline modules included; a test's own `#[isolated]` adds to the module's, and so does
/// a second `#[isolated]` below the first on one item (a name bound by both is a compile
/// error). It never adds `#[test]` itself.
///
/// # Arguments
///
/// All optional, in any order, comma separated.
///
/// | argument | binds | default | meaning |
/// |---|---|---|---|
/// | `port`, `port(a, b)` | [`Port`] | | a TCP listener on `127.0.0.1:0`, open and accepting; nobody else can take its port |
/// | `port6`, `port6(a, b)` | [`Port`] | | the same on `[::1]:0` (a clear error where the host has no IPv6 loopback) |
/// | `udp`, `udp(a, b)` | [`UdpPort`] | | a UDP socket on `127.0.0.1:0` |
/// | `udp6`, `udp6(a, b)` | [`UdpPort`] | | a UDP socket on `[::1]:0` |
/// | `reserved_port`, `reserved_port(a, b)` | [`ReservedPort`] | | a port *number* for code that binds it itself, reserved against every other isolated test on the machine |
/// | `tmpdir`, `tmpdir(a, b)` | [`TmpDir`] | | a fresh directory, removed on pass, kept (path printed) on failure |
/// | `fixture(db = DB, ..)` | `&T` | | the run's value of `static DB: Fixture<T>` ([`Fixture`]): started once per `cargo test` / `cargo nextest run`, shared by all its tests and processes (feature `fixture`, on by default) |
/// | `serial = "g"` or `["g", "h"]` | | | exclusive member of each group, across threads and processes |
/// | `shared = "g"` or `["g", "h"]` | | | shared member: beside other shared members, never beside an exclusive one |
/// | `max_sockets = N` | | | `N` permits (1 to 1048576) of the machine-wide socket budget |
/// | `timeout = "90s"` | | 5 minutes | the longest the test waits for all it asked for, counted from its start: `ms`, `s`, `m`, `h`, sums like `"1m30s"` |
/// | `env` | | | the environment variables, exclusively: no other test of this process that declares `env` or `env(read)` runs meanwhile; every variable the test set, changed or removed is put back when it ends (pass, failure or panic) |
/// | `env(read)` | | | reads the environment: beside other readers, never beside an `env` writer |
/// | `cwd`, `cwd(read)` | | | the same for the working directory: a writer's directory is put back when it ends |
/// | `fresh_process` | | | runs the test in a fresh process of the test binary (under nextest, which gives every test one, in place), reported as if in place |
///
/// Bindings are named by your own tokens: `port(api)` binds `api`, and go-to-definition on
/// `api` lands on the attribute.
///
/// A `#[test_case(.. => expected)]` fn returns the value `test_case` compares, which may be of
/// any type; its temp dirs are removed when the fn returns, before that comparison, so a case
/// that fails only the comparison does not keep them (a panic or an `Err` still does).
/// A `#[should_panic(expected = "..")]` test that panics with another message fails, and keeps
/// its temp dirs like any failure: for such a test the runtime notes panic messages with a
/// panic hook that calls the one it replaced. A test that installs its own hook without
/// calling the previous one leaves the message unknown, and then any panic removes the dirs,
/// as for a pass. The message is read as libtest reads it: `expected = ".."` alone in the list,
/// or `#[should_panic = ".."]`, any string literal (raw, escaped, from a `macro_rules!`
/// fragment). Where the message is not known (a list with other keys, from which libtest reads
/// none either; two `should_panic` attributes, of which rustc versions read different ones), any
/// panic removes the dirs. A value that is no literal (`concat!(..)`) is a compile error: rustc
/// versions disagree on whether the test must panic at all.
///
/// A binding is a `let`: a `const`, `static` or unit struct of the same name in scope (through
/// `use super::*`, say) turns it into a pattern, and rustc reports that on the name in the
/// attribute; bind another name (`tmpdir(dir)`).
///
/// On a module, the tests are the functions marked by a test attribute: `#[test]`, any
/// `#[..::test]` (`tokio`, `async_std`, `actix_rt`, `actix_web`, `sqlx`, `test_log`, ...),
/// `#[rstest]`, `#[test_case]`, `#[test_matrix]`, `#[wasm_bindgen_test]`, `#[quickcheck]`, and
/// any of these inside `#[cfg_attr(..)]`. A function with another attribute whose name contains
/// `test` is a compile error when the module asks for groups, a budget or a timeout: put
/// `#[isolated]` on it to make it one of the module's tests.
///
/// ## Migrating from `serial_test`
///
/// `#[serial(k)]` is `serial = "k"`, `#[parallel(k)]` is `shared = "k"`, and `serial_test`'s
/// unnamed key (bare `#[serial]`, `#[parallel]`) is the group `"default"`: `serial = "default"`.
/// With the crate feature `serial_test`, each group is also written as `serial_test`'s own
/// attribute on the test (`#[serial(k)]`, `#[parallel(k)]`, bare for `"default"`), resolved
/// against the `serial_test` your suite depends on (0.9 and later), so migrated and unmigrated
/// tests in one binary exclude each other (a group name that is not an identifier is written
/// with `_` for each other character, `"db-1"` is `#[serial(db_1)]`, with a `_` before a
/// leading digit and after a keyword or one of `serial_test`'s option names, `"1"` is
/// `#[serial(_1)]`; two groups that meet in one key only exclude each other more).
///
/// `port` or `reserved_port`? A [`Port`] is the listener itself, held from before the test
/// starts: race-free against everyone. A [`ReservedPort`] is only a number: no other isolated
/// test and no kernel port-0 choice will get it, but an unrelated program could still bind it.
/// Use it only where code insists on binding a number itself (a child process, say).
///
/// # Examples
///
/// ```no_run
/// # #![allow(unused_imports, dead_code)]
/// use isolate::isolated;
/// use std::io::Write;
///
/// #[test]
/// #[isolated(port)]
/// fn serves_on_its_own_port() {
///     let addr = port.addr(); // already accepting
///     let server = std::thread::spawn(move || port.listener().accept().map(|_| ()));
///     std::net::TcpStream::connect(addr).unwrap();
///     server.join().unwrap().unwrap();
/// }
///
/// #[test]
/// #[isolated(tmpdir(data, logs))]
/// fn writes_files() -> std::io::Result<()> {
///     // An `Err` fails the test, and both directories are kept for inspection.
///     std::fs::File::create(data.join("db"))?.write_all(b"rows")?;
///     std::fs::write(logs.join("run.log"), "ok")
/// }
///
/// #[test]
/// #[isolated(serial = "db", max_sockets = 64, timeout = "2m")]
/// fn migrates_the_shared_database() {
///     // No other `serial = "db"` or `shared = "db"` test runs meanwhile, in any process.
/// }
///
/// #[isolated(shared = "db")]
/// mod readers {
///     #[test]
///     fn reads_a() {}
///
///     #[test]
///     fn reads_b() {} // runs beside `reads_a`, never beside `migrates_the_shared_database`
/// }
/// ```
///
/// # Expansion
///
/// Equivalent code without the attribute, for `#[isolated(port, serial = "ws")]`:
///
/// ```no_run
/// # #![allow(unused_variables)]
/// fn reconnects() {
///     let mut guard = {
///         static SPEC: isolate::Spec = isolate::Spec::for_test(module_path!(), "reconnects")
///             .bind(isolate::Resource::Port, &["port"])
///             .serial(&["ws"]);
///         isolate::enter(&SPEC) // groups (sorted), `env`/`cwd`, permits, then ports and dirs
///     };
///     let port: isolate::Port = guard.take("port").unwrap();
///     // the body, verbatim
///
///     // `port`, then `guard` drop: everything is released in reverse order, also on panic
/// }
/// # fn main() { reconnects() }
/// ```
///
/// When a fn has temp dirs and returns something that can fail (`-> Result<..>`,
/// `ExitCode`, `impl Termination`), its statements run in a closure (an async block, for an
/// async fn) whose value the guard sees, so that a failing value keeps the directories too.
/// `return`, `?`, inner attributes, `Self`, the impl's generics and the fn's own name
/// mean what they meant; a value of any other type (a helper's `u64`) fails only by
/// panicking. One difference: `#[track_caller]` does not reach into that closure, so a panic
/// in such a body reports its own line, not the caller's.
///
/// # Compile-time errors
///
/// Each on the token that is wrong, all of one attribute's at once: unknown argument (with a
/// "did you mean" hint, and the translation of `serial_test`'s `serial(ws)`, `parallel(a, b)`,
/// `file_serial(x)` keeping your keys; bare `serial` says `serial_test`'s bare `#[serial]` is
/// `serial = "default"`), duplicate argument, wrong value type (a suffixed or non-decimal
/// `max_sockets`, a list in brackets instead of parentheses, an empty `serial = []`),
/// `max_sockets` below 1 or above 1048576, an empty or malformed group name (1 to 64 of ASCII
/// letters, digits, `_ - . : /`), a group both `serial` and `shared`, a name bound twice or
/// clashing with a parameter (also a name inside a pattern parameter), a `const fn`, a method
/// with `self`, a file module `mod m;` (the attribute cannot see into another file: write the
/// module inline, or put the attribute on the tests in its file), anything that is not a
/// function or module, an unparsable `timeout`, a malformed `env`, `cwd` or `fresh_process`, a
/// `fresh_process` test that returns something other than `()`, a `Result` or an `ExitCode`
/// (on the type), a binding the body cannot reach because the attribute is below `#[rstest]` or
/// `#[test_case]` (on the binding: move the attribute above them), and, on a module that asks for groups, a budget
/// or a timeout, a test under a test attribute the attribute does not recognise (it would
/// otherwise run without them).
///
/// # Process-wide state: `env`, `cwd`
///
/// The environment and the working directory belong to the process: under `cargo test` every
/// test of a binary shares them. A test that changes them declares `env` / `cwd`: it runs alone
/// among the tests of its process that declare the same, and what it changed is put back before
/// the next one starts, on pass, failure and panic. A test that only reads declares
/// `env(read)` / `cwd(read)` and runs beside other readers. A `cwd` test goes back to the
/// directory it started in, not to its path: one that removes or renames that directory leaves
/// the next test where it found the process. Nothing poisons: a panicking test releases like a
/// passing one. The exclusion is per process (another process has its own
/// environment), so under nextest it costs nothing and serializes nothing.
///
/// Since edition 2024, `std::env::set_var` and `remove_var` are `unsafe`: reading the
/// environment while another thread writes it is undefined behaviour on most platforms. Inside
/// an `env` test, no other test that declares `env` or `env(read)` runs, which is the promise
/// the `unsafe` block asks for; [`vars::set`] and [`vars::remove`] make that call for you (and
/// return an error while no test of the process holds `env` as a writer). What `env` cannot protect: code that declares
/// nothing (tests without the attribute, a library's background thread), and threads a test
/// leaves running after it ends. Declare `env(read)` on every test that reads the variables
/// others change.
///
/// Helpers may carry the attribute too. One with `env` or `env(read)` that an `env` test calls
/// on its own thread joins the test (nothing else can run meanwhile); a nested `env` helper
/// puts back what it changed when it returns. One with `env` called from an `env(read)` test
/// fails at once, with an error that says to declare `env` on the test: other readers may be
/// running. Called from another thread that the test waits for, a helper cannot know it is the
/// test's: it waits for the test, and fails at its own timeout (`ISOLATE_TIMEOUT`, else the
/// helper's `timeout`, else 5 minutes; never the test's) with a message that names the
/// holder; declare the state on the test, not on helpers it runs on other threads. The same
/// holds for `cwd`. Groups differ: a helper that joins group `g` on the thread of a test
/// already in `g` fails at once when either of them is `serial`, as it would wait for itself;
/// join a group once, in the outermost test or helper.
///
/// # A fresh process: `fresh_process`
///
/// For a test that needs a pristine process (a global logger or singleton initialised once,
/// signal handlers, `process::exit`). Under `cargo test`, the test re-runs the test binary for
/// just itself (`--exact <name>`) and waits: its output is shown as its own, a panic is
/// re-raised with the same message (so `#[should_panic(expected = "..")]` works; a payload that
/// is no text, as from `panic_any(42)`, is re-raised as no text), an `Err` fails it. Before
/// starting the child, the test waits, within its `timeout`, for the `env` and `cwd` writers of
/// its process, so the child starts from an environment and directory nobody is changing. The
/// child process acquires what the test asked for (groups, ports, temp dirs, `env`). The test
/// must return `()`, a `Result` or an `ExitCode`. Each case `rstest` or `test_case` generates
/// runs in a process of its own. Under nextest, which starts a process for that one test
/// (`--exact <name>`), it runs in place; a `cargo test` started from inside a nextest test,
/// which inherits nextest's variables but runs many tests per process, still re-runs. Under
/// either runner a fn that is not itself a test (a helper a test calls) cannot be re-run, and
/// fails saying so: put `fresh_process` on the test. In the child, stdin is empty
/// (`/dev/null`), and the panic message is read by a panic hook: a test that installs a hook of
/// its own without calling the one [`std::panic::take_hook`] returned still passes and fails as
/// in place, but a `#[should_panic(expected = "..")]` one that panics with another message is
/// reported without it. The child ends with its test process: killed (a runner's timeout,
/// Ctrl-C), the test process takes it along (Linux), so nothing it holds outlives the run.
///
/// ```no_run
/// # #![allow(unused_imports, dead_code)]
/// use isolate::isolated;
///
/// #[test]
/// #[isolated(env)]
/// fn reads_the_configured_mode() -> Result<(), isolate::Error> {
///     isolate::vars::set("APP_MODE", "test")?; // put back when the test ends
///     assert_eq!(std::env::var("APP_MODE").as_deref(), Ok("test"));
///     Ok(())
/// }
///
/// #[test]
/// #[isolated(fresh_process)]
/// fn installs_the_global_logger() {
///     // `log::set_logger` may be called once per process: this process is the test's own.
/// }
/// ```
///
/// # Timeouts
///
/// A test waits for everything it asked for (groups, `env` and `cwd`, permits, reserved
/// numbers, a fixture's init) at most its `timeout` in all, counted from its start (default 5
/// minutes); `ISOLATE_TIMEOUT` overrides both. When the wait runs out, the test fails with a
/// message that names what it waited for, who holds it (test, pid and for how long; for `env`
/// and `cwd`, the tests of its own process) and the knob to turn:
///
/// ```text
/// isolate: timed out after 0.3s waiting for serial group `crash` (held by `crash_member`
/// (pid 4242, for 0.4s)); if the holder is legitimately slow, raise the wait with
/// `timeout = "..."` on the test or the `ISOLATE_TIMEOUT` environment variable
/// ```
///
/// # Runners
///
/// Every guarantee holds the same under `cargo test` (threads in one process), `cargo nextest
/// run` (a process per test) and several runs at once on one machine: locks are OS file locks in
/// a per-user directory, and the kernel releases them when a holder dies, even by SIGKILL.
/// Guarantees are per machine: shards on different CI machines share nothing and need nothing.
pub use isolate_macros::isolated;

pub use isolate_runtime::{
    enter, prune_kept_dirs, reserved_port_band, socket_budget, try_enter, vars, Access, Binding,
    Error, Outcome, Port, ReservedPort, Resource, Spec, TestGuard, TmpDir, UdpPort,
    DEFAULT_TIMEOUT,
};

pub use isolate_runtime::{eventually, eventually_async, ready, Child, DEFAULT_GRACE};

#[cfg(feature = "fixture")]
pub use isolate_runtime::{Fixture, InitError, InitFn, Setup};

pub mod env {
    //! The `ISOLATE_*` environment variables the runtime reads, and their names as constants.
    //!
    //! Each overrides a default for every test of every process that sees it, whatever the
    //! attributes say; set them for a whole run (`ISOLATE_TIMEOUT=10m cargo nextest run`), not
    //! from inside a test.
    //!
    //! | variable | default | meaning |
    //! |---|---|---|
    //! | `ISOLATE_DIR` ([`DIR`]) | `<temp dir>/isolate-<uid>` | where lock files, reservations and temp dirs live |
    //! | `ISOLATE_TIMEOUT` ([`TIMEOUT`]) | | overrides the timeout of every wait for what a test asked for, the attribute's `timeout` included, not a `ready` probe's or `eventually`'s `within` (`30s`, `2m`, `1m30s`, ...) |
    //! | `ISOLATE_KEEP_TMPDIR` ([`KEEP_TMPDIR`]) | `on-failure` | when temp dirs are kept: `on-failure`, `always` or `never` |
    //! | `ISOLATE_KEEP_DAYS` ([`KEEP_DAYS`]) | `7` | kept temp dirs older than this many days are pruned; `0` disables pruning (or call [`prune_kept_dirs`](crate::prune_kept_dirs)) |
    //! | `ISOLATE_SOCKET_BUDGET` ([`SOCKET_BUDGET`]) | half the soft open-file limit | the machine-wide budget `max_sockets` draws from, in permits |
    //! | `ISOLATE_RUN` (`RUN`) | the `cargo`/`cargo-nextest` runner | the pid of a process that lives as long as the run, for [`Fixture`](crate::Fixture)s under other harnesses |
    //! | `ISOLATE_PORT_BAND` ([`PORT_BAND`]) | 20000 to just below the ephemeral range | where [`ReservedPort`](crate::ReservedPort) numbers come from, `LOW-HIGH` |
    //!
    //! An empty value counts as unset. A value that cannot be parsed fails the test with a message
    //! naming the variable and the accepted forms.
    //!
    //! # Examples
    //!
    //! ```
    //! assert_eq!(isolate::env::TIMEOUT, "ISOLATE_TIMEOUT");
    //! ```

    pub use isolate_runtime::{DIR, KEEP_DAYS, KEEP_TMPDIR, PORT_BAND, SOCKET_BUDGET, TIMEOUT};

    #[cfg(feature = "fixture")]
    pub use isolate_runtime::RUN;
}

#[doc(hidden)]
pub mod __private {
    //! Not public API: the items the code generated by `#[isolated]` names.
    pub use isolate_runtime::__private::*;

    /// Written by `#[isolated(fixture(..))]`: nothing with the `fixture` feature on.
    #[cfg(feature = "fixture")]
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __isolate_fixture_feature {
        () => {};
    }

    /// Written by `#[isolated(fixture(..))]`: without the `fixture` feature, an error that says
    /// how to turn it on, where rustc alone would say "cannot find function `fixture`".
    #[cfg(not(feature = "fixture"))]
    #[doc(hidden)]
    #[macro_export]
    macro_rules! __isolate_fixture_feature {
        () => {
            ::core::compile_error!(
                "`fixture(..)` needs the `fixture` feature of `isolate`, which is off: \
                 `isolate = { version = \"0.1\", features = [\"fixture\"] }` in `[dev-dependencies]`, \
                 or drop `default-features = false`"
            );
        };
    }

    pub use crate::__isolate_fixture_feature as fixture_feature;
}
