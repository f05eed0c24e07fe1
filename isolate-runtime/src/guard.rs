//! `enter`: acquire everything a [`Spec`] asks for, in a fixed order, into one guard.

use crate::{Error, Port, ReservedPort, Spec, TmpDir, UdpPort};

/// Owns every resource one test asked for; dropping it releases them in reverse order of
/// acquisition, on pass, failure and panic alike.
#[derive(Debug)]
pub struct TestGuard {
    spec: &'static Spec,
    ports: Vec<Option<Port>>,
    ports6: Vec<Option<Port>>,
    udp: Vec<Option<UdpPort>>,
    udp6: Vec<Option<UdpPort>>,
    reserved_ports: Vec<Option<ReservedPort>>,
    tmpdirs: Vec<TmpDir>,
}

/// Acquire everything `spec` asks for.
///
/// # Errors
///
/// Fails when a resource cannot be had: a port cannot be bound, a directory cannot be
/// created, a group or permit wait times out.
pub fn try_enter(spec: &'static Spec) -> Result<TestGuard, Error> {
    let bind_all = |names: &[&str], bind: fn() -> Result<Port, Error>| {
        names
            .iter()
            .map(|_| bind().map(Some))
            .collect::<Result<Vec<_>, _>>()
    };
    let bind_udp = |names: &[&str], bind: fn() -> Result<UdpPort, Error>| {
        names
            .iter()
            .map(|_| bind().map(Some))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(TestGuard {
        spec,
        ports: bind_all(spec.ports, Port::bind)?,
        ports6: bind_all(spec.ports6, Port::bind_v6)?,
        udp: bind_udp(spec.udp, UdpPort::bind)?,
        udp6: bind_udp(spec.udp6, UdpPort::bind_v6)?,
        reserved_ports: spec
            .reserved_ports
            .iter()
            .map(|_| ReservedPort::reserve().map(Some))
            .collect::<Result<_, _>>()?,
        tmpdirs: spec
            .tmpdirs
            .iter()
            .map(|name| TmpDir::for_test(spec.test, name))
            .collect::<Result<_, _>>()?,
    })
}

/// Acquire everything `spec` asks for, failing the test with the error's message when
/// something cannot be had. The call that `#[isolated]` generates.
///
/// # Panics
///
/// Panics with the [`Error`]'s message (at the caller's location) when [`try_enter`] fails.
#[track_caller]
#[must_use]
pub fn enter(spec: &'static Spec) -> TestGuard {
    match try_enter(spec) {
        Ok(guard) => guard,
        Err(error) => panic!("{error}"),
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
            self.$field[index].take().expect(concat!(stringify!($name), " taken twice"))
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
    /// the directory is removed or kept, after the test's outcome is known.
    #[must_use]
    pub fn tmpdir(&self, index: usize) -> TmpDir {
        self.tmpdirs[index].clone()
    }

    /// The spec this guard was entered with.
    #[must_use]
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// Records the test's result (an `Err` is a failure), releases everything, and hands the
    /// result back unchanged.
    pub fn finish<T: Outcome>(self, result: T) -> T {
        if result.is_failure() {
            for dir in &self.tmpdirs {
                dir.mark_failed();
            }
        }
        result
    }
}

impl Drop for TestGuard {
    fn drop(&mut self) {
        if std::thread::panicking() != self.spec.expects_panic {
            for dir in &self.tmpdirs {
                dir.mark_failed();
            }
        }
    }
}

/// A test function's return value, as far as `#[isolated]` needs to know: did it fail?
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
