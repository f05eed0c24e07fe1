//! `enter`: acquire everything a [`Spec`] asks for, in a fixed order, into one guard.

use std::time::{Duration, Instant};

use crate::group::{self, GroupLock};
use crate::permits::{self, Permits};
use crate::wait::Mode;
use crate::{env, Error, Port, ReservedPort, Spec, TmpDir, UdpPort};

/// How long a test waits for its groups and permits when neither the attribute's `timeout`
/// nor `ISOLATE_TIMEOUT` says otherwise: long enough for a busy group's legitimate queue,
/// short enough to fail a stuck suite with a diagnosis before CI's own limit.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Owns every resource one test asked for. Dropping it releases them in reverse order of
/// acquisition (bindings, then permits, then groups), on pass, failure and panic alike.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Spec, enter};
///
/// static SPEC: Spec = Spec { ports: &["api"], serial: &["doc-example"], ..Spec::new("doc::example") };
/// let mut guard = enter(&SPEC);
/// let api = guard.port(0);
/// assert_ne!(api.port(), 0);
/// ```
#[derive(Debug)]
pub struct TestGuard {
    spec: &'static Spec,
    tmpdirs: Vec<TmpDir>,
    ports: Vec<Option<Port>>,
    ports6: Vec<Option<Port>>,
    udp: Vec<Option<UdpPort>>,
    udp6: Vec<Option<UdpPort>>,
    reserved_ports: Vec<Option<ReservedPort>>,
    permits: Option<Permits>,
    groups: Vec<GroupLock>,
}

/// Acquires everything `spec` asks for: groups in sorted order (so no two tests deadlock),
/// then budget permits, then ports and directories (so a waiting test holds no descriptors).
///
/// # Errors
///
/// Fails when a wait for a group or for permits times out (the message names the holder),
/// when the isolate directory is refused, when an `ISOLATE_*` variable is malformed, or when a
/// port cannot be bound or a directory created.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Spec, try_enter};
///
/// static SPEC: Spec = Spec { tmpdirs: &["data"], shared: &["doc-readers"], ..Spec::new("doc::try_enter") };
/// let guard = try_enter(&SPEC)?;
/// assert!(guard.tmpdir(0).path().is_dir());
/// # Ok::<(), isolate_runtime::Error>(())
/// ```
pub fn try_enter(spec: &'static Spec) -> Result<TestGuard, Error> {
    let timeout = env::timeout()?.or(spec.timeout).unwrap_or(DEFAULT_TIMEOUT);
    let deadline = Instant::now() + timeout;
    let mut guard = TestGuard {
        spec,
        tmpdirs: Vec::new(),
        ports: Vec::new(),
        ports6: Vec::new(),
        udp: Vec::new(),
        udp6: Vec::new(),
        reserved_ports: Vec::new(),
        permits: None,
        groups: Vec::new(),
    };
    for (name, mode) in sorted_groups(spec) {
        guard
            .groups
            .push(group::join(name, mode, spec.test, deadline, timeout)?);
    }
    if spec.max_sockets > 0 {
        guard.permits = Some(permits::take(
            spec.max_sockets,
            spec.test,
            deadline,
            timeout,
        )?);
    }
    guard.ports = bind_each(spec.ports, Port::bind)?;
    guard.ports6 = bind_each(spec.ports6, Port::bind_v6)?;
    guard.udp = bind_each(spec.udp, UdpPort::bind)?;
    guard.udp6 = bind_each(spec.udp6, UdpPort::bind_v6)?;
    guard.reserved_ports = bind_each(spec.reserved_ports, ReservedPort::reserve)?;
    guard.tmpdirs = spec
        .tmpdirs
        .iter()
        .map(|name| TmpDir::for_test(spec.test, name))
        .collect::<Result<_, _>>()?;
    Ok(guard)
}

fn bind_each<T>(names: &[&str], bind: fn() -> Result<T, Error>) -> Result<Vec<Option<T>>, Error> {
    names.iter().map(|_| bind().map(Some)).collect()
}

/// Every group once, sorted by name; a name in both lists is joined exclusively.
fn sorted_groups(spec: &Spec) -> Vec<(&'static str, Mode)> {
    let mut groups: Vec<(&'static str, Mode)> = spec
        .serial
        .iter()
        .map(|name| (*name, Mode::Exclusive))
        .chain(spec.shared.iter().map(|name| (*name, Mode::Shared)))
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
/// use isolate_runtime::{Spec, enter};
///
/// static SPEC: Spec = Spec { udp: &["gossip"], ..Spec::new("doc::enter") };
/// let mut guard = enter(&SPEC);
/// assert!(guard.udp(0).addr().ip().is_loopback());
/// ```
#[track_caller]
#[must_use = "resources are released when the guard drops"]
pub fn enter(spec: &'static Spec) -> TestGuard {
    match try_enter(spec) {
        Ok(guard) => guard,
        Err(error) => panic!("isolate: {error}"),
    }
}

macro_rules! take {
    ($(#[$doc:meta])* $name:ident, $field:ident, $ty:ty) => {
        $(#[$doc])*
        ///
        /// # Panics
        ///
        /// Panics when `index` is out of range or was taken already: generated code takes each
        /// index exactly once.
        #[must_use]
        pub fn $name(&mut self, index: usize) -> $ty {
            match self.$field.get_mut(index).and_then(Option::take) {
                Some(value) => value,
                None => panic!(concat!("isolate: `", stringify!($name), "({})` is out of range or taken twice"), index),
            }
        }
    };
}

impl TestGuard {
    take!(
        /// Takes the TCP listener bound for `spec.ports[index]`.
        port, ports, Port
    );
    take!(
        /// Takes the IPv6 TCP listener bound for `spec.ports6[index]`.
        port6, ports6, Port
    );
    take!(
        /// Takes the UDP socket bound for `spec.udp[index]`.
        udp, udp, UdpPort
    );
    take!(
        /// Takes the IPv6 UDP socket bound for `spec.udp6[index]`.
        udp6, udp6, UdpPort
    );
    take!(
        /// Takes the port number reserved for `spec.reserved_ports[index]`.
        reserved_port, reserved_ports, ReservedPort
    );

    /// A handle to the temp dir created for `spec.tmpdirs[index]`. The guard decides whether
    /// the directory is removed or kept, once the test's outcome is known.
    ///
    /// # Panics
    ///
    /// Panics when `index` is out of range.
    #[must_use]
    pub fn tmpdir(&self, index: usize) -> TmpDir {
        self.tmpdirs[index].clone()
    }

    /// The spec this guard was entered with.
    #[must_use]
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// Records the test's result (an `Err` is a failure, so its temp dirs are kept), releases
    /// everything, and hands the result back unchanged.
    pub fn finish<T: Outcome>(self, result: T) -> T {
        if result.is_failure() {
            for dir in &self.tmpdirs {
                dir.set_outcome(true);
            }
        }
        result
    }
}

impl Drop for TestGuard {
    fn drop(&mut self) {
        // A `#[should_panic]` test passes by panicking and fails by returning; `finish` may
        // already have recorded a failure.
        let failed = std::thread::panicking() != self.spec.expects_panic;
        for dir in &self.tmpdirs {
            dir.set_outcome(failed);
        }
        self.tmpdirs.clear();
        self.ports.clear();
        self.ports6.clear();
        self.udp.clear();
        self.udp6.clear();
        self.reserved_ports.clear();
        self.permits = None;
        while self.groups.pop().is_some() {}
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

impl Outcome for std::process::ExitCode {
    fn is_failure(&self) -> bool {
        *self != std::process::ExitCode::SUCCESS
    }
}
