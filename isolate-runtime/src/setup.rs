//! [`Setup`]: what a fixture's init gets to start things that live as long as the run.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::child::Inner;
use crate::run::Run;
use crate::{Child, Error, ReservedPort};

/// What a [`Fixture`](crate::Fixture)'s init function gets: ports, directories and processes
/// that belong to the whole run (every test and test process of one `cargo test` or `cargo
/// nextest run`) rather than to one test.
///
/// Everything obtained here is released when the run ends (its runner exits, however it exits)
/// by the run's watcher, a few seconds later at most; and at once if the init fails (returns
/// `Err`, panics, or its readiness wait runs out), so a failed init leaves nothing behind.
///
/// # Examples
///
/// ```no_run
/// use isolate_runtime::{ready, Fixture, Setup};
/// use std::process::Command;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Cache {
///     port: u16,
/// }
///
/// fn start_cache(setup: &mut Setup) -> Result<Cache, Box<dyn std::error::Error + Send + Sync>> {
///     let port = setup.reserved_port()?;
///     let dir = setup.dir()?;
///     let server = setup.spawn(
///         Command::new("redis-server")
///             .args(["--port", &port.to_string(), "--save", ""])
///             .current_dir(&dir),
///     )?;
///     server.wait_ready(ready::tcp(("127.0.0.1", port)).within("30s"))?;
///     Ok(Cache { port })
/// }
///
/// static CACHE: Fixture<Cache> = Fixture::new("cache", start_cache);
/// let port = CACHE.get()?.port;
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct Setup {
    fixture: &'static str,
    test: String,
    run: &'static Run,
    deadline: Instant,
    timeout: Duration,
    children: Vec<Arc<Inner>>,
    dirs: Vec<PathBuf>,
    ports: Vec<ReservedPort>,
}

impl Setup {
    pub(crate) fn new(
        fixture: &'static str,
        test: &str,
        run: &'static Run,
        timeout: Duration,
    ) -> Result<Setup, Error> {
        run.ensure_watcher()?;
        Ok(Setup {
            fixture,
            test: test.to_owned(),
            run,
            deadline: Instant::now() + timeout,
            timeout,
            children: Vec::new(),
            dirs: Vec::new(),
            ports: Vec::new(),
        })
    }

    /// The fixture's name.
    #[must_use]
    pub fn fixture(&self) -> &'static str {
        self.fixture
    }

    /// The test whose use of the fixture runs this init.
    #[must_use]
    pub fn test(&self) -> &str {
        &self.test
    }

    /// A port number for a server that binds it itself, reserved against every other isolated
    /// test of the machine as a [`ReservedPort`] is, while this process lives; once the server
    /// has bound it, nobody else can.
    ///
    /// # Errors
    ///
    /// As [`ReservedPort::reserve`].
    pub fn reserved_port(&mut self) -> Result<u16, Error> {
        let port = ReservedPort::reserve_for(&self.test, self.deadline, self.timeout)?;
        let number = port.port();
        self.ports.push(port);
        Ok(number)
    }

    /// A fresh empty directory, owner-only, removed when the run ends.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub fn dir(&mut self) -> Result<PathBuf, Error> {
        let dir = self
            .run
            .subdir(&self.own_name(&format!("dir{}", self.dirs.len())))?;
        self.dirs.push(dir.clone());
        Ok(dir)
    }

    /// Starts `command` for the run: in a process group of its own, with stdin from
    /// `/dev/null` and stdout and stderr written to files in the run's directory (shown with
    /// the initialising test's output while the returned handle lives, and in error messages).
    ///
    /// Unlike [`Child::spawn`], the process outlives the handle and the test: dropping the
    /// handle leaves it running, for every test of the run. It is stopped when the run ends
    /// (SIGTERM to its group, 3 seconds, SIGKILL), or at once if this init fails.
    ///
    /// # Errors
    ///
    /// As [`Child::spawn`].
    pub fn spawn(&mut self, command: &mut Command) -> Result<Child, Error> {
        let program = command.get_program().to_string_lossy();
        let program: String = program
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let log = self
            .run
            .dir
            .join(self.own_name(&format!("{program}{}", self.children.len())));
        let child = Child::spawn_detached(command, &log)?;
        if let Err(error) = self.run.register_child(child.pid()) {
            let _ = child.inner().stop();
            return Err(error);
        }
        self.children.push(child.inner());
        Ok(child)
    }

    /// `<fixture>.<what>`: the fixture's own names in the run's directory.
    fn own_name(&self, what: &str) -> String {
        format!("{}.{what}", self.fixture)
    }

    /// The init succeeded: what it started now belongs to the run. Reserved numbers stay held
    /// while this process lives.
    pub(crate) fn keep(self) {
        static HELD: Mutex<Vec<ReservedPort>> = Mutex::new(Vec::new());
        HELD.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(self.ports);
    }

    /// The init failed: stops its children and removes its directories now.
    pub(crate) fn tear_down(self) {
        for child in self.children.iter().rev() {
            if let Err(error) = child.stop() {
                eprintln!("isolate: {error}");
            }
        }
        for dir in &self.dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
