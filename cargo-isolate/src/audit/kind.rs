//! The kinds of offender `audit` finds, each with why it breaks and under which runner.

use serde::Serialize;

/// What a finding shares that a test must not.
///
/// ```
/// use cargo_isolate::audit::Kind;
/// assert_eq!(Kind::FixedPort.name(), "fixed-port");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A literal port bound or connected to.
    FixedPort,
    /// A port picked, released, and bound again later.
    ReleasedPort,
    /// A literal or fixed path written by tests.
    FixedPath,
    /// Serialisation that holds inside one process only.
    ProcessLock,
    /// A sleep that waits for something to start.
    SleepWait,
    /// Process-wide state changed by a test.
    ProcessGlobal,
    /// Hundreds of sockets opened at once by one test.
    SocketHeavy,
    /// A server started once per process, so once per test under nextest.
    ProcessFixture,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 8] = [
        Kind::FixedPort,
        Kind::ReleasedPort,
        Kind::FixedPath,
        Kind::ProcessLock,
        Kind::SleepWait,
        Kind::ProcessGlobal,
        Kind::SocketHeavy,
        Kind::ProcessFixture,
    ];

    /// The kind's name in reports and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Kind::FixedPort => "fixed-port",
            Kind::ReleasedPort => "released-port",
            Kind::FixedPath => "fixed-path",
            Kind::ProcessLock => "process-lock",
            Kind::SleepWait => "sleep-wait",
            Kind::ProcessGlobal => "process-global",
            Kind::SocketHeavy => "socket-heavy",
            Kind::ProcessFixture => "process-fixture",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
