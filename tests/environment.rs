//! Every `ISOLATE_*` variable: a value that cannot be used is a clear error naming the
//! variable and the accepted forms, never a panic, a silent default, or a poisoned state that
//! fails the process's later tests.

mod support;

use isolate::isolated;

#[test]
#[ignore = "child process of the tests below"]
#[isolated(tmpdir, reserved_port, serial = "environment", max_sockets = 1)]
fn uses_everything() {
    assert!(tmpdir.path().is_dir() && reserved_port.port() > 0);
}

/// Runs `uses_everything` with `name=value` and its own root; returns its output.
fn run_with(name: &str, value: &str, expect_success: bool) -> String {
    let root = support::private_root();
    let mut command = support::child("uses_everything", "run");
    command
        .current_dir(root.path())
        .env(isolate::env::DIR, root.path().join("root"))
        .env(name, value);
    support::text(&support::run(&mut command, expect_success))
}

#[test]
fn every_bad_value_is_a_clear_error() {
    use isolate::env::{KEEP_DAYS, KEEP_TMPDIR, PORT_BAND, SOCKET_BUDGET, TIMEOUT};
    let days = "expected a whole number of days";
    let duration = "expected a duration like `500ms`, `30s`, `2m`, `1h` or `1m30s`";
    let permits = "expected a positive whole number of permits";
    let band = "expected an inclusive range like `20000-30000` within 1024-65535";
    let cases = [
        (KEEP_DAYS, "soon", days),
        (KEEP_DAYS, "-1", days),
        (KEEP_DAYS, "1.5", days),
        (KEEP_DAYS, "99999999999999999999", days),
        (KEEP_DAYS, "999999999999999999", days),
        (TIMEOUT, "soon", duration),
        (TIMEOUT, "-1s", duration),
        (TIMEOUT, "1.5s", duration),
        (SOCKET_BUDGET, "0", permits),
        (SOCKET_BUDGET, "-5", permits),
        (SOCKET_BUDGET, "1.5", permits),
        (SOCKET_BUDGET, "99999999999", permits),
        (PORT_BAND, "ports", band),
        (PORT_BAND, "100-200", band),
        (PORT_BAND, "30000-20000", band),
        (
            KEEP_TMPDIR,
            "sometimes",
            "expected one of `on-failure`, `always`, `never`",
        ),
    ];
    for (name, value, expected) in cases {
        let output = run_with(name, value, false);
        assert!(
            output.contains(&format!(
                "isolate: cannot parse `{name}={value}`: {expected}"
            )),
            "{name}={value}:\n{output}"
        );
    }
    for name in [KEEP_DAYS, TIMEOUT, SOCKET_BUDGET, PORT_BAND, KEEP_TMPDIR] {
        let output = run_with(name, "  ", false);
        assert!(
            output.contains(&format!(
                "isolate: cannot use `{name}=\"  \"`: the value is blank; unset `{name}` for the default"
            )),
            "{name}:\n{output}"
        );
    }
    // A zero wait parses: it is refused for its size, with the smallest value that works.
    for zero in ["0s", "0ms", "0m0s"] {
        let output = run_with(TIMEOUT, zero, false);
        assert!(
            output.contains(&format!(
                "isolate: cannot use `{TIMEOUT}={zero}`: a wait of zero is too small, every wait \
                 would time out at once; the smallest accepted value is `1ms`"
            )),
            "{zero}:\n{output}"
        );
    }
    // Empty means unset.
    run_with(KEEP_DAYS, "", true);
}

#[test]
#[ignore = "child process of a_bad_value_does_not_poison_later_tests"]
fn twice() {
    for _ in 0..2 {
        let outcome = std::panic::catch_unwind(|| {
            isolate::TmpDir::for_test("environment::twice", "tmpdir").map(drop)
        });
        let error = outcome.expect("a clear error, not a panic").unwrap_err();
        assert!(error.is_config(), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("cannot parse `ISOLATE_KEEP_DAYS=999999999999999999`"),
            "{error}"
        );
    }
}

#[test]
fn a_bad_value_does_not_poison_later_tests() {
    let root = support::private_root();
    let mut command = support::child("twice", "run");
    command
        .env(isolate::env::DIR, root.path())
        .env(isolate::env::KEEP_DAYS, "999999999999999999");
    support::run(&mut command, true);
}

#[test]
fn a_relative_or_blank_isolate_dir_is_refused() {
    let expected = "expected an absolute path like `/tmp/isolate`";
    for (value, problem) in [
        (
            "relative/locks",
            "it is relative, so processes with different working directories would not share it",
        ),
        (" ", "it is blank"),
        ("/tmp/isolate ", "it starts or ends with whitespace"),
    ] {
        let root = support::private_root();
        let mut command = support::child("uses_everything", "run");
        command
            .current_dir(root.path())
            .env(isolate::env::DIR, value);
        let output = support::text(&support::run(&mut command, false));
        assert!(
            output.contains(&format!(
                "isolate: cannot use `ISOLATE_DIR={value:?}`: {problem}; {expected}"
            )),
            "{value:?}:\n{output}"
        );
        assert_eq!(
            std::fs::read_dir(root.path()).unwrap().count(),
            0,
            "created something for {value:?}"
        );
    }
}
