//! The static descriptor that `#[isolated]` generates for each test.

use std::time::Duration;

/// What one test asked for: built by `#[isolated]` as a `static`, or by hand for use
/// without the macro.
///
/// Every list keeps the order the attribute wrote; the binding at index `i` of a list is
/// taken from the guard with the accessor of the same kind and the same index
/// (`TestGuard::port(i)`, `TestGuard::tmpdir(i)`, ...).
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The test's full path, `module_path!()` + `::` + the fn name. Names temp dirs and
    /// appears in lock-holder records and timeout messages.
    pub test: &'static str,
    /// Names of TCP listeners bound to `127.0.0.1:0` (`port`, `port(a, b)`).
    pub ports: &'static [&'static str],
    /// Names of TCP listeners bound to `[::1]:0` (`port6`, `port6(a, b)`).
    pub ports6: &'static [&'static str],
    /// Names of UDP sockets bound to `127.0.0.1:0` (`udp`, `udp(a, b)`).
    pub udp: &'static [&'static str],
    /// Names of UDP sockets bound to `[::1]:0` (`udp6`, `udp6(a, b)`).
    pub udp6: &'static [&'static str],
    /// Names of port numbers reserved across processes for code that binds them itself
    /// (`reserved_port`, `reserved_port(a, b)`).
    pub reserved_ports: &'static [&'static str],
    /// Names of temp dirs (`tmpdir`, `tmpdir(a, b)`).
    pub tmpdirs: &'static [&'static str],
    /// Groups joined exclusively (`serial = "g"` or a list).
    pub serial: &'static [&'static str],
    /// Groups joined as a shared member (`shared = "g"` or a list).
    pub shared: &'static [&'static str],
    /// Permits of the machine-wide socket budget held for the test's lifetime; 0 takes none.
    pub max_sockets: u32,
    /// The longest wait for groups and permits (`timeout = "90s"`); `None` uses the default.
    pub timeout: Option<Duration>,
    /// The test is expected to panic (`#[should_panic]`), so a panic counts as a pass when
    /// deciding whether to keep its temp dirs.
    pub expects_panic: bool,
}

impl Spec {
    /// A spec that asks for nothing, to start from with struct-update syntax.
    ///
    /// # Examples
    ///
    /// ```
    /// use isolate_runtime::Spec;
    ///
    /// static SPEC: Spec = Spec { serial: &["db"], ..Spec::new("my_crate::tests::migrates") };
    /// assert_eq!(SPEC.serial, ["db"]);
    /// ```
    #[must_use]
    pub const fn new(test: &'static str) -> Self {
        Spec {
            test,
            ports: &[],
            ports6: &[],
            udp: &[],
            udp6: &[],
            reserved_ports: &[],
            tmpdirs: &[],
            serial: &[],
            shared: &[],
            max_sockets: 0,
            timeout: None,
            expects_panic: false,
        }
    }
}
