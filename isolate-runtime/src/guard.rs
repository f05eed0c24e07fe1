//! `enter`: acquire everything a [`Spec`] asks for, in a fixed order, into one guard.

use std::process::{ExitCode, Termination};
use std::time::{Duration, Instant};

use crate::group;
use crate::permits;
use crate::process_state::{self, State};
use crate::resource::{Acquire, Binding, Held, Resource};
use crate::wait::Mode;
use crate::{env, Error, Spec, TmpDir};

/// How long a test waits for everything it asked for (groups, `env` and `cwd`, permits, reserved
/// numbers, a fixture's init) when neither the attribute's `timeout` nor `ISOLATE_TIMEOUT` says
/// otherwise: long enough for a busy group's legitimate queue, short enough to fail a stuck
/// suite with a diagnosis before CI's own limit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Owns every resource one test asked for. Dropping it releases them in reverse order of
/// acquisition (bindings, then permits, then the working directory and the environment, each
/// put back first by a writer, then groups), on pass, failure and panic alike.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Port, Resource, Spec, enter};
///
/// static SPEC: Spec = Spec::new("doc::example")
///     .bind(Resource::Port, &["api"])
///     .serial(&["doc-example"]);
/// let mut guard = enter(&SPEC);
/// let api: Port = guard.take("api")?;
/// assert_ne!(api.port(), 0);
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct TestGuard {
    spec: &'static Spec,
    test: String,
    /// Every binding in acquisition order; a slot is emptied when the test takes its value.
    bindings: Vec<Slot>,
    /// The rest, in acquisition order (the [`Step`]s'): in the child of a `fresh_process`
    /// test, the report of its outcome to the parent (last to drop, so the parent sees
    /// everything the release printed); group locks; `env`, then `cwd`; budget permits.
    /// Type-erased like the bindings, so the guard's drop glue names only what was acquired.
    holds: Vec<Held>,
    /// When the test's waits run out, counted from its start, and the whole timeout.
    deadline: Instant,
    timeout: Duration,
}

#[derive(Debug)]
struct Slot {
    resource: Resource,
    name: &'static str,
    held: Option<Held>,
}

/// Acquires everything `spec` asks for: groups in sorted order (so no two tests deadlock),
/// then the environment and the working directory, then budget permits, then the bindings in
/// [`Resource::ALL`]'s order (so a waiting test holds no descriptors). All the waits together
/// end at the spec's timeout, counted from the call. The calling thread blocks while it waits:
/// in an async test, a thread of the runtime that drives it.
///
/// # Errors
///
/// Fails when a wait for a group, `env`, `cwd`, permits or a reserved number times out (the
/// message names the holders), when a thread joins a group it is already in and either
/// membership is `serial` (it would wait for itself), when a group name is invalid, when `env`
/// or `cwd` is asked for as a writer on a thread that holds it as a reader, when the isolate
/// directory is refused, when an `ISOLATE_*` variable is malformed, or when a port cannot be
/// bound or a directory created.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Resource, Spec, TmpDir, try_enter};
///
/// static SPEC: Spec = Spec::new("doc::try_enter")
///     .bind(Resource::TmpDir, &["data"])
///     .shared(&["doc-readers"]);
/// let mut guard = try_enter(&SPEC)?;
/// let data: TmpDir = guard.take("data")?;
/// assert!(data.path().is_dir());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn try_enter(spec: &'static Spec) -> Result<TestGuard, Error> {
    // Children of test processes that died without `Drop` are stopped by the next use: at a
    // process's first entry, then at most once a second, to keep a directory scan off the
    // path of every test (`Child::spawn` always sweeps).
    crate::orphans::sweep_now_and_then();
    let timeout = wait_timeout(spec)?;
    let deadline = Instant::now() + timeout;
    let mut guard = TestGuard {
        spec,
        test: spec.test().into_owned(),
        bindings: Vec::new(),
        holds: Vec::new(),
        deadline,
        timeout,
    };
    for step in spec.steps() {
        guard = step(guard)?;
    }
    for &resource in Resource::ALL {
        let Some(acquire) = spec.acquirer(resource) else {
            continue;
        };
        for &name in spec.names(resource) {
            let cx = Acquire {
                test: &guard.test,
                name,
                deadline,
                timeout,
            };
            let held = acquire(&cx)?;
            guard.bindings.push(Slot {
                resource,
                name,
                held: Some(held),
            });
        }
    }
    if spec.expected_panic_message().is_some() && guard.tmpdirs().next().is_some() {
        crate::panic_message::watch();
    }
    Ok(guard)
}

/// What `enter` does before the bindings, one function per part of a spec, in this order:
/// each is named only by the [`Spec`] builder that asks for it, so a test binary whose specs
/// never ask for a part links none of its code. The guard goes through by value (a `&mut` in
/// a `const fn`'s types needs Rust 1.83): a failing step drops it, releasing what it holds in
/// reverse order, as a failing `enter` always has.
pub(crate) type Step = fn(TestGuard) -> Result<TestGuard, Error>;
/// The slots of a spec's steps: the fresh process's report first (before any wait), then the
/// groups, which may wait across processes, then `env` and `cwd` (so a test waiting for
/// `env` holds no descriptors, and tests that both join a group and take `env` or `cwd` take
/// them in one order), then the budget's permits.
pub(crate) const FRESH: usize = 0;
pub(crate) const GROUPS: usize = 1;
pub(crate) const PROCESS_STATE: usize = 2;
pub(crate) const PERMITS: usize = 3;
pub(crate) const STEPS: usize = 4;

// A `Step`, so it returns a `Result` like the others.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn begin_fresh_report(mut guard: TestGuard) -> Result<TestGuard, Error> {
    if let Some(report) = crate::fresh::ChildReport::begin(guard.spec) {
        guard.holds.push(Held::new(report));
    }
    Ok(guard)
}

pub(crate) fn join_groups(mut guard: TestGuard) -> Result<TestGuard, Error> {
    for (name, mode) in sorted_groups(guard.spec) {
        let lock = group::join(name, mode, &guard.test, guard.deadline, guard.timeout)?;
        guard.holds.push(Held::new(lock));
    }
    Ok(guard)
}

pub(crate) fn take_process_state(mut guard: TestGuard) -> Result<TestGuard, Error> {
    for (state, access) in [
        (State::Env, guard.spec.env_access()),
        (State::Cwd, guard.spec.cwd_access()),
    ] {
        if let Some(access) = access {
            let lock =
                process_state::take(state, access, &guard.test, guard.deadline, guard.timeout)?;
            guard.holds.push(Held::new(lock));
        }
    }
    Ok(guard)
}

pub(crate) fn take_permits(mut guard: TestGuard) -> Result<TestGuard, Error> {
    let count = guard.spec.socket_permits();
    if count > 0 {
        let permits = permits::take(count, &guard.test, guard.deadline, guard.timeout)?;
        guard.holds.push(Held::new(permits));
    }
    Ok(guard)
}

/// How long `spec`'s test waits for all it asked for: `ISOLATE_TIMEOUT`, else the attribute's
/// `timeout`, else [`DEFAULT_TIMEOUT`].
pub(crate) fn wait_timeout(spec: &Spec) -> Result<Duration, Error> {
    Ok(env::timeout()?
        .or(spec.wait_timeout())
        .unwrap_or(DEFAULT_TIMEOUT))
}

/// Every group once, sorted by name; a name in both lists is joined exclusively.
fn sorted_groups(spec: &Spec) -> Vec<(&'static str, Mode)> {
    let mut groups: Vec<(&'static str, Mode)> = spec
        .serial_groups()
        .iter()
        .map(|name| (*name, Mode::Exclusive))
        .chain(
            spec.shared_groups()
                .iter()
                .map(|name| (*name, Mode::Shared)),
        )
        .collect();
    // Exclusive sorts first within a name, and `dedup_by_key` keeps the first.
    groups.sort_by_key(|(name, mode)| (*name, *mode == Mode::Shared));
    groups.dedup_by_key(|(name, _)| *name);
    groups
}

/// Acquires everything `spec` asks for, failing the test with the error's message when
/// something cannot be had. This is the call `#[isolated]` generates.
///
/// # Panics
///
/// Panics with the [`Error`]'s message, reported at the caller's location (the attribute),
/// when [`try_enter`] fails.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Resource, Spec, UdpPort, enter};
///
/// static SPEC: Spec = Spec::new("doc::enter").bind(Resource::Udp, &["gossip"]);
/// let mut guard = enter(&SPEC);
/// let gossip: UdpPort = guard.take("gossip")?;
/// assert!(gossip.addr().ip().is_loopback());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
#[track_caller]
#[must_use = "resources are released when the guard drops"]
pub fn enter(spec: &'static Spec) -> TestGuard {
    match try_enter(spec) {
        Ok(guard) => guard,
        Err(error) => panic!("isolate: {error}"),
    }
}

impl TestGuard {
    /// Takes the value bound to `name`: a [`Port`](crate::Port), [`UdpPort`](crate::UdpPort),
    /// [`ReservedPort`](crate::ReservedPort) (moved out), or a [`TmpDir`] (a handle; the guard
    /// keeps its own to decide, once the outcome is known, whether the directory stays).
    ///
    /// # Errors
    ///
    /// Fails when the spec binds no `name` of type `T`, or it was taken already.
    pub fn take<T: Binding>(&mut self, name: &str) -> Result<T, Error> {
        let slot = self.bindings.iter_mut().find_map(|slot| {
            if slot.name != name {
                return None;
            }
            T::take(&mut slot.held)
        });
        slot.ok_or_else(|| {
            Error::config(format!(
                "`{}` binds no `{name}` of type `{}`, or it was taken already",
                self.test,
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or_default()
            ))
        })
    }

    /// The value of the `index`-th binding of `resource`, for generated code.
    fn take_nth<T: Binding>(&mut self, resource: Resource, index: usize) -> Option<T> {
        let slot = self
            .bindings
            .iter_mut()
            .filter(|slot| slot.resource == resource)
            .nth(index)?;
        T::take(&mut slot.held)
    }

    /// The spec this guard was entered with.
    #[must_use]
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// The test's name as the runner shows it (what holder records and messages name).
    #[must_use]
    pub fn test(&self) -> &str {
        &self.test
    }

    /// When the test's waits run out (counted from its start) and its whole timeout: a later
    /// wait, for a fixture, gets only what is left.
    #[cfg_attr(not(feature = "fixture"), allow(dead_code))]
    pub(crate) fn wait_budget(&self) -> (Instant, Duration) {
        (self.deadline, self.timeout)
    }

    /// Records the test's result (a failing one keeps its temp dirs), releases everything, and
    /// hands the result back unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use isolate_runtime::{Resource, Spec, TmpDir, enter};
    ///
    /// static SPEC: Spec = Spec::new("doc::finish").bind(Resource::TmpDir, &["data"]);
    /// let mut guard = enter(&SPEC);
    /// let data: TmpDir = guard.take("data").unwrap();
    /// let result: Result<(), &str> = guard.finish(Err("boom"));
    /// assert!(result.is_err());
    /// assert!(data.path().is_dir(), "a failed test's directory is kept");
    /// # std::fs::remove_dir_all(data.path()).unwrap();
    /// ```
    pub fn finish<T: Outcome>(self, result: T) -> T {
        self.record_outcome(result.is_failure());
        result
    }

    /// Like [`finish`](Self::finish) for any [`Termination`] value (an opaque
    /// `impl Termination`, say): reports it, as the test harness would, and returns the exit
    /// code, so a failure is seen whatever the type.
    pub fn finish_termination<T: Termination>(self, result: T) -> ExitCode {
        let code = result.report();
        self.record_outcome(code.is_failure());
        code
    }

    fn record_outcome(&self, failed: bool) {
        if failed {
            for dir in self.tmpdirs() {
                dir.set_outcome(true);
            }
        }
    }

    fn tmpdirs(&self) -> impl Iterator<Item = &TmpDir> {
        self.bindings
            .iter()
            .filter_map(|slot| slot.held.as_ref()?.get::<TmpDir>())
    }
}

impl Drop for TestGuard {
    fn drop(&mut self) {
        // A `#[should_panic]` test passes by panicking (with the expected message, if it names
        // one) and fails by returning; `finish` may already have recorded a failure, and the
        // first record wins.
        let panicked = std::thread::panicking();
        let failed = match self.spec.expected_panic_message() {
            Some(expected) if panicked => !crate::panic_message::expected(expected),
            _ => panicked != self.spec.panics_expected(),
        };
        for dir in self.tmpdirs() {
            dir.set_outcome(failed);
        }
        while self.bindings.pop().is_some() {}
        while self.holds.pop().is_some() {}
    }
}

/// Takes the `index`-th binding of `resource` for generated code, which takes each exactly once.
///
/// # Panics
///
/// When `index` is out of range or taken twice: a bug in the expansion, never in a test.
#[doc(hidden)]
#[track_caller]
#[must_use]
pub fn take<T: Binding>(guard: &mut TestGuard, resource: Resource, index: usize) -> T {
    match guard.take_nth(resource, index) {
        Some(value) => value,
        None => panic!("isolate: binding {index} of `{resource}` is out of range or taken twice"),
    }
}

/// Runs an observed test's body, which generated code moves into a closure so that the guard
/// sees its outcome: `return` and `?` stay the body's. `FnOnce`, so the body may move out of
/// what it took, or return a borrow through a `&mut` it took.
#[doc(hidden)]
pub fn run<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// A returned value, for generated code to finish the guard with whatever its type:
/// `(&Observe(&value)).observe(guard)` records the outcome of an [`Outcome`] ([`ObserveOutcome`],
/// found first), and nothing for any other value ([`ObserveAny`]: a helper's `u64`, or a `T`
/// not known to be one), which only a panic can fail.
#[doc(hidden)]
#[derive(Debug)]
pub struct Observe<'a, T>(pub &'a T);

#[doc(hidden)]
pub trait ObserveOutcome {
    fn observe(&self, guard: TestGuard);
}

impl<T: Outcome> ObserveOutcome for Observe<'_, T> {
    fn observe(&self, guard: TestGuard) {
        guard.record_outcome(self.0.is_failure());
    }
}

#[doc(hidden)]
pub trait ObserveAny {
    fn observe(&self, guard: TestGuard);
}

impl<T> ObserveAny for &Observe<'_, T> {
    fn observe(&self, guard: TestGuard) {
        drop(guard);
    }
}

/// A test function's return value, as far as `#[isolated]` needs to know: did it fail?
///
/// # Examples
///
/// ```
/// use isolate_runtime::Outcome;
///
/// assert!(Err::<(), _>("boom").is_failure());
/// assert!(!().is_failure());
/// assert!(std::process::ExitCode::FAILURE.is_failure());
/// ```
pub trait Outcome {
    /// True when the test harness would report this value as a failure.
    fn is_failure(&self) -> bool;
}

impl Outcome for () {
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

impl Outcome for ExitCode {
    fn is_failure(&self) -> bool {
        // `ExitCode: PartialEq` is stable only since Rust 1.79, above our MSRV; its derived
        // `Debug` shows the status, so equal codes print alike.
        format!("{self:?}") != format!("{:?}", ExitCode::SUCCESS)
    }
}
