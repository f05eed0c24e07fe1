//! The static descriptor of what one test asked for.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::guard::{self, Step};
use crate::resource::{self, AcquireFn, Resource};
use crate::Access;

/// What one test asked for: built by `#[isolated]` as a `static`, or by hand for use without
/// the macro, with `const` builders so it can live in a `static` too.
///
/// Its fields are private, so new kinds of resources can be added without breaking a spec
/// written by hand.
///
/// # Examples
///
/// ```
/// use isolate_runtime::{Resource, Spec};
///
/// static SPEC: Spec = Spec::new("my_crate::tests::migrates")
///     .bind(Resource::Port, &["api"])
///     .bind(Resource::TmpDir, &["data"])
///     .serial(&["db"])
///     .max_sockets(64);
///
/// assert_eq!(SPEC.test(), "my_crate::tests::migrates");
/// assert_eq!(SPEC.names(Resource::Port), ["api"]);
/// assert_eq!(SPEC.serial_groups(), ["db"]);
/// ```
#[derive(Clone, Copy)]
pub struct Spec {
    module: Option<&'static str>,
    test: &'static str,
    names: [&'static [&'static str]; resource::COUNT],
    serial: &'static [&'static str],
    shared: &'static [&'static str],
    max_sockets: u32,
    timeout: Option<Duration>,
    expects_panic: bool,
    expected_panic: Option<&'static str>,
    env: Option<Access>,
    cwd: Option<Access>,
    fresh_process: bool,
    /// What `enter` runs for this spec, set by the builders that ask for it: a `static` spec
    /// names only the code of what it asks for, so a test binary links only that (the linker
    /// drops the rest) instead of every kind `enter` could acquire.
    acquire: [Option<AcquireFn>; resource::COUNT],
    steps: [Option<Step>; guard::STEPS],
}

/// What the test asked for, without the function addresses `enter` runs (they follow from it).
impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("module", &self.module)
            .field("test", &self.test)
            .field("names", &self.names)
            .field("serial", &self.serial)
            .field("shared", &self.shared)
            .field("max_sockets", &self.max_sockets)
            .field("timeout", &self.timeout)
            .field("expects_panic", &self.expects_panic)
            .field("expected_panic", &self.expected_panic)
            .field("env", &self.env)
            .field("cwd", &self.cwd)
            .field("fresh_process", &self.fresh_process)
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// A spec that asks for nothing, for the test named `test` (the name holder records,
    /// timeouts and kept temp dirs show).
    #[must_use]
    pub const fn new(test: &'static str) -> Self {
        Spec {
            module: None,
            test,
            names: [&[]; resource::COUNT],
            serial: &[],
            shared: &[],
            max_sockets: 0,
            timeout: None,
            expects_panic: false,
            expected_panic: None,
            env: None,
            cwd: None,
            fresh_process: false,
            acquire: [None; resource::COUNT],
            steps: [None; guard::STEPS],
        }
    }

    /// A spec that asks for nothing, for the fn `name` in the module `module_path` (pass
    /// `module_path!()`). The test is reported by the name the runner shows: the module path
    /// without its first segment (the crate), then the fn.
    ///
    /// # Examples
    ///
    /// ```
    /// static SPEC: isolate_runtime::Spec =
    ///     isolate_runtime::Spec::for_test("btree::btree::tests", "search_works");
    /// assert_eq!(SPEC.test(), "btree::tests::search_works");
    /// ```
    #[must_use]
    pub const fn for_test(module_path: &'static str, name: &'static str) -> Self {
        let mut spec = Spec::new(name);
        spec.module = Some(module_path);
        spec
    }

    /// Binds one `resource` for each of `names`, in order; replaces earlier names of the same
    /// kind.
    #[must_use]
    pub const fn bind(mut self, resource: Resource, names: &'static [&'static str]) -> Self {
        self.names[resource as usize] = names;
        self.acquire[resource as usize] = Some(resource::ACQUIRE[resource as usize]);
        self
    }

    /// Joins each of `groups` exclusively: no other member of a group runs meanwhile, in any
    /// thread or process of the machine. A group named in both lists is joined exclusively.
    #[must_use]
    pub const fn serial(mut self, groups: &'static [&'static str]) -> Self {
        self.serial = groups;
        self.steps[guard::GROUPS] = Some(guard::join_groups);
        self
    }

    /// Joins each of `groups` as a shared member: beside other shared members, never beside an
    /// exclusive one.
    #[must_use]
    pub const fn shared(mut self, groups: &'static [&'static str]) -> Self {
        self.shared = groups;
        self.steps[guard::GROUPS] = Some(guard::join_groups);
        self
    }

    /// Holds `permits` of the machine-wide socket budget for the test's lifetime (0 takes none).
    #[must_use]
    pub const fn max_sockets(mut self, permits: u32) -> Self {
        self.max_sockets = permits;
        self.steps[guard::PERMITS] = Some(guard::take_permits);
        self
    }

    /// Waits at most `timeout` in all for what the spec asks for (groups, `env` and `cwd`,
    /// permits, reserved numbers, a fixture's init) instead of the default.
    #[must_use]
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The test passes by panicking (`#[should_panic]`), so a panic does not keep its temp dirs
    /// and a return does.
    #[must_use]
    pub const fn expects_panic(mut self) -> Self {
        self.expects_panic = true;
        self
    }

    /// The test passes by panicking with a message that contains `expected`
    /// (`#[should_panic(expected = "..")]`): a panic with another message is a failure and
    /// keeps the temp dirs, as long as the panic hook isolate installs to read messages is
    /// called (a test that replaces the hook without calling it leaves the message unknown, and
    /// any panic counts as expected). A fresh process whose test replaced the panic hook cannot
    /// read the message; its parent panics with this one when the child's harness judged the
    /// panic expected.
    #[must_use]
    pub const fn expects_panic_containing(mut self, expected: &'static str) -> Self {
        self.expects_panic = true;
        self.expected_panic = Some(expected);
        self
    }

    /// Holds the environment variables in `access`: a writer runs alone among this process's
    /// tests that hold them, and every variable it set, changed or removed is put back when it
    /// ends; readers run beside each other, never beside a writer.
    #[must_use]
    pub const fn env(mut self, access: Access) -> Self {
        self.env = Some(access);
        self.steps[guard::PROCESS_STATE] = Some(guard::take_process_state);
        self
    }

    /// Holds the working directory in `access`, like [`env`](Self::env): a writer's directory
    /// is put back when it ends.
    #[must_use]
    pub const fn cwd(mut self, access: Access) -> Self {
        self.cwd = Some(access);
        self.steps[guard::PROCESS_STATE] = Some(guard::take_process_state);
        self
    }

    /// Runs the test in a fresh process of the test binary (under `cargo test`; under nextest
    /// each test has one already). See `isolate::isolated`'s `fresh_process`.
    #[must_use]
    pub const fn fresh_process(mut self) -> Self {
        self.fresh_process = true;
        self.steps[guard::FRESH] = Some(guard::begin_fresh_report);
        self
    }

    /// The test's name as the runner shows it.
    #[must_use]
    pub fn test(&self) -> Cow<'static, str> {
        match self.module.map(|path| path.split_once("::")) {
            Some(Some((_crate, rest))) => Cow::Owned(format!("{rest}::{}", self.test)),
            // A test at the crate's root: the runner shows the bare fn name.
            Some(None) | None => Cow::Borrowed(self.test),
        }
    }

    /// The names bound to `resource`, in order.
    #[must_use]
    pub const fn names(&self, resource: Resource) -> &'static [&'static str] {
        self.names[resource as usize]
    }

    /// The groups joined exclusively.
    #[must_use]
    pub const fn serial_groups(&self) -> &'static [&'static str] {
        self.serial
    }

    /// The groups joined as a shared member.
    #[must_use]
    pub const fn shared_groups(&self) -> &'static [&'static str] {
        self.shared
    }

    /// The socket-budget permits held for the test (0: none).
    #[must_use]
    pub const fn socket_permits(&self) -> u32 {
        self.max_sockets
    }

    /// The spec's own wait bound, if it sets one.
    #[must_use]
    pub const fn wait_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Whether the test passes by panicking.
    #[must_use]
    pub const fn panics_expected(&self) -> bool {
        self.expects_panic
    }

    /// What the expected panic's message contains, when the test says.
    #[must_use]
    pub const fn expected_panic_message(&self) -> Option<&'static str> {
        self.expected_panic
    }

    /// How the test holds the environment variables, if it does.
    #[must_use]
    pub const fn env_access(&self) -> Option<Access> {
        self.env
    }

    /// How the test holds the working directory, if it does.
    #[must_use]
    pub const fn cwd_access(&self) -> Option<Access> {
        self.cwd
    }

    /// How `enter` acquires a binding of `resource`, if the spec binds it.
    pub(crate) fn acquirer(&self, resource: Resource) -> Option<AcquireFn> {
        self.acquire[resource as usize]
    }

    /// What `enter` runs before the bindings, in order.
    pub(crate) fn steps(&self) -> impl Iterator<Item = Step> + '_ {
        self.steps.iter().flatten().copied()
    }

    /// Whether the test runs in a fresh process.
    #[must_use]
    pub const fn runs_in_fresh_process(&self) -> bool {
        self.fresh_process
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_name_the_runner_shows() {
        assert_eq!(
            Spec::for_test("btree::btree::tests", "search_works").test(),
            "btree::tests::search_works"
        );
        // An integration test at its binary's root: libtest shows the bare name.
        assert_eq!(
            Spec::for_test("groups", "crash_member").test(),
            "crash_member"
        );
        assert_eq!(Spec::new("by::hand").test(), "by::hand");
    }

    #[test]
    fn builders_fill_only_their_own_slot() {
        const SPEC: Spec = Spec::new("t")
            .bind(Resource::Port, &["a", "b"])
            .bind(Resource::TmpDir, &["d"])
            .shared(&["g"])
            .expects_panic();
        assert_eq!(SPEC.names(Resource::Port), ["a", "b"]);
        assert_eq!(SPEC.names(Resource::TmpDir), ["d"]);
        assert!(SPEC.names(Resource::Udp).is_empty());
        assert_eq!(SPEC.shared_groups(), ["g"]);
        assert!(SPEC.serial_groups().is_empty());
        assert!(SPEC.panics_expected());
        assert_eq!(SPEC.wait_timeout(), None);
    }

    #[test]
    fn debug_shows_what_was_asked_not_code_addresses() {
        const SPEC: Spec = Spec::new("t")
            .bind(Resource::Port, &["api"])
            .serial(&["db"]);
        let shown = format!("{SPEC:?}");
        assert!(
            shown.contains("\"api\"") && shown.contains("\"db\""),
            "{shown}"
        );
        assert!(!shown.contains("0x"), "no function addresses: {shown}");
    }

    #[test]
    fn a_spec_names_only_the_code_of_what_it_asks_for() {
        // What lets a test binary link only the kinds its tests use: `enter` runs the spec's
        // steps and acquirers, never a table of every kind.
        const PORT: Spec = Spec::new("t").bind(Resource::Port, &["api"]);
        const ALL: Spec = Spec::new("t")
            .fresh_process()
            .max_sockets(1)
            .cwd(Access::Read)
            .shared(&["g"]);
        assert_eq!(PORT.steps().count(), 0);
        let bound: Vec<Resource> = Resource::ALL
            .iter()
            .copied()
            .filter(|resource| PORT.acquirer(*resource).is_some())
            .collect();
        assert_eq!(bound, [Resource::Port]);
        let steps: Vec<Step> = ALL.steps().collect();
        let expected: [Step; guard::STEPS] = [
            guard::begin_fresh_report,
            guard::join_groups,
            guard::take_process_state,
            guard::take_permits,
        ];
        // In `enter`'s fixed order, whatever the builders' order.
        assert!(steps
            .iter()
            .zip(expected)
            .all(|(a, b)| *a as usize == b as usize));
        assert_eq!(steps.len(), guard::STEPS);
    }
}
