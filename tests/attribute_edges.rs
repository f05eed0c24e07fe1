//! `#[isolated]` on the items a demanding suite writes: odd signatures, raw and non-ASCII
//! names, attributes on every side, a second `#[isolated]`, macros, nested fns and
//! `use super::*` modules. Each body uses what was bound, so a test that lost its bindings
//! would not compile, and checks that it is really there.
#![allow(dead_code, clippy::unnecessary_wraps)]

mod support;

use std::path::Path;

use isolate::isolated;

/// A second attribute adds to the first instead of wrapping it in a second guard, which would
/// join `attribute-edges-twice` again and wait for itself until the timeout.
#[test]
#[isolated(serial = "attribute-edges-twice", tmpdir)]
#[isolated(serial = "attribute-edges-twice", port, max_sockets = 2)]
fn a_second_attribute_adds_to_the_first() -> Result<(), String> {
    assert!(tmpdir.path().is_dir());
    assert_ne!(port.port(), 0);
    Ok(())
}

/// The same on a module: its tests join the group once.
#[isolated(serial = "attribute-edges-twice-mod")]
#[isolated(serial = "attribute-edges-twice-mod", port)]
mod twice_on_a_module {
    #[test]
    fn joins_once() {
        assert_ne!(port.port(), 0);
    }
}

#[should_panic(expected = "boom")]
#[isolated(tmpdir)]
#[test]
fn should_panic_above_everything() {
    assert!(tmpdir.path().is_dir());
    panic!("boom");
}

#[test]
#[isolated(tmpdir)]
#[cfg_attr(all(), should_panic(expected = "boom"))]
fn should_panic_inside_cfg_attr() {
    assert!(tmpdir.path().is_dir());
    panic!("boom");
}

#[test]
#[isolated(port(r#type, r#gen))]
fn raw_binding_names() {
    assert_ne!(r#type.port(), r#gen.port());
}

#[test]
#[isolated(tmpdir)]
fn r#match() {
    assert!(tmpdir.path().is_dir());
}

#[test]
#[isolated(tmpdir)]
fn ünïcödé_名前() {
    assert!(tmpdir.path().is_dir());
}

#[test]
#[track_caller]
#[isolated(tmpdir)]
fn track_caller_with_an_observed_result() -> Result<(), String> {
    assert!(tmpdir.path().is_dir());
    Ok(())
}

/// Docs with a code block whose lines start with `#`:
/// ```
/// # let hidden = 1;
/// # assert_eq!(hidden, 1);
/// ```
#[test]
#[isolated(tmpdir)]
#[cfg_attr(miri, ignore)]
fn doc_comments_and_attributes_after() {
    assert!(tmpdir.path().is_dir());
}

#[test]
#[isolated(tmpdir)]
#[ignore = "shows that `#[ignore = \"..\"]` below the attribute composes"]
fn ignored_below() {
    panic!("ignored tests do not run");
}

// A user fn named like a binding: the binding shadows it inside the test only.
fn port() -> u16 {
    1
}

#[test]
#[isolated(port)]
fn a_binding_shadows_a_user_fn_of_its_name() {
    assert_ne!(port.port(), 0);
}

#[test]
fn the_user_fn_is_untouched_elsewhere() {
    assert_eq!(port(), 1);
}

#[cfg(test)]
mod glob_import {
    use super::*;

    #[test]
    #[isolated(port, tmpdir)]
    fn through_use_super_glob() {
        assert_ne!(port.port(), 0);
        assert!(tmpdir.path().is_dir());
    }
}

#[test]
fn a_nested_fn() {
    #[isolated(port)]
    fn nested() -> u16 {
        port.port()
    }
    assert_ne!(nested(), 0);
}

#[test]
#[isolated(tmpdir)]
fn lifetimes_and_a_where_clause<'a>() -> Result<(), &'a str>
where
    'a: 'a,
{
    assert!(tmpdir.path().is_dir());
    Ok(())
}

macro_rules! isolated_test {
    ($name:ident, $port:ident) => {
        #[test]
        #[isolated(port($port), tmpdir)]
        fn $name() -> Result<(), String> {
            assert_ne!($port.port(), 0);
            assert!(tmpdir.path().is_dir());
            Ok(())
        }
    };
}
isolated_test!(from_macro_rules, api);

#[test]
#[isolated(tmpdir)]
fn returns_impl_termination() -> impl std::process::Termination {
    assert!(tmpdir.path().is_dir());
}

trait Named {
    fn name() -> &'static str;
}

struct Data;

impl Named for Data {
    fn name() -> &'static str {
        "data"
    }
}

/// A generic fn whose type parameter no argument names, observed (temp dirs and a `Result`):
/// its body still names the parameter.
#[isolated(tmpdir)]
fn generic_helper<'a, T: Named, const N: usize>(prefix: &'a str) -> std::io::Result<usize> {
    std::fs::write(tmpdir.join(format!("{prefix}{}", T::name())), [0; N])?;
    Ok(N)
}

#[test]
fn a_type_parameter_no_argument_names() {
    assert_eq!(generic_helper::<Data, 3>("a-").unwrap(), 3);
}

/// An observed `unsafe fn` (temp dirs and a `Result`): its body moves into a closure, which is
/// in the fn's unsafe context, so the body's unsafe operations still need no block (edition 2021).
#[allow(unsafe_code)]
#[deny(unused_unsafe)]
#[isolated(tmpdir)]
unsafe fn unsafe_helper(byte: *const u8) -> std::io::Result<u8> {
    std::fs::write(tmpdir.join("byte"), [*byte])?;
    Ok(std::fs::read(tmpdir.join("byte"))?[0])
}

/// The edition 2024 way: unsafe operations in blocks even inside an `unsafe fn`; the expansion
/// adds none, and no block is reported unused.
#[allow(unsafe_code, clippy::unused_async)]
#[deny(unsafe_op_in_unsafe_fn, unused_unsafe)]
#[isolated(tmpdir)]
async unsafe fn unsafe_async_helper(byte: *const u8) -> std::io::Result<u8> {
    std::fs::write(tmpdir.join("byte"), [unsafe { *byte }])?;
    Ok(std::fs::read(tmpdir.join("byte"))?[0])
}

/// `extern "C"`, observed.
#[allow(unsafe_code, improper_ctypes_definitions)]
#[isolated(tmpdir)]
unsafe extern "C" fn unsafe_extern_helper(byte: *const u8) -> Result<u8, String> {
    std::fs::write(tmpdir.join("byte"), [*byte]).map_err(|error| error.to_string())?;
    Ok(*byte)
}

#[test]
#[allow(unsafe_code)]
fn unsafe_helpers_with_an_observed_result() {
    let byte = 7u8;
    // SAFETY: `byte` outlives the calls.
    unsafe {
        assert_eq!(unsafe_helper(&byte).unwrap(), 7);
        assert_eq!(unsafe_extern_helper(&byte).unwrap(), 7);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(runtime.block_on(unsafe_async_helper(&byte)).unwrap(), 7);
    }
}

/// Each form of `#[should_panic]` whose message libtest checks, on a test with a temp dir: the
/// guard must read the same message, or it judges the passing test failed and keeps the dir.
/// With two `should_panic` attributes rustc versions read different ones (1.71 the first,
/// later ones the last): whichever this one reads, the guard agrees with its verdict.
#[test]
fn every_expected_message_form_is_read_as_libtest_reads_it() {
    for test in [
        "expected::raw",
        "expected::escaped",
        "expected::trailing_comma",
        "expected::name_value_raw",
        "expected::from_a_literal_fragment",
        "expected::from_an_expr_fragment",
        "expected::in_a_module::inherits_the_tmpdir",
        "expected::two_attributes",
    ] {
        let root = support::private_root();
        let log = support::Log::new(root.path());
        let output = support::child_in(test, "run", root.path(), &log)
            .output()
            .unwrap();
        let dir = log.lines().first().cloned().unwrap_or_default();
        let passed = output.status.success();
        assert!(
            !dir.is_empty() && Path::new(&dir).exists() != passed,
            "{test} passed: {passed}, its dir: {dir}\n{}",
            support::text(&output)
        );
        if test != "expected::two_attributes" {
            assert!(passed, "{test}\n{}", support::text(&output));
        }
    }
}

/// Children of the test above: each records its temp dir, then panics as expected.
mod expected {
    use isolate::isolated;

    fn record(dir: &std::path::Path) {
        super::support::Log::from_env().append(&dir.display().to_string());
    }

    #[test]
    #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
    #[isolated(tmpdir)]
    #[should_panic(expected = r#"a "raw" message"#)]
    fn raw() {
        record(tmpdir.path());
        panic!("this is a \"raw\" message");
    }

    #[test]
    #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
    #[isolated(tmpdir)]
    #[should_panic(expected = "caf\u{e9}\t\x21\\")]
    fn escaped() {
        record(tmpdir.path());
        panic!("café\t!\\ and more");
    }

    #[test]
    #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
    #[isolated(tmpdir)]
    #[should_panic(expected = "comma")]
    fn trailing_comma() {
        record(tmpdir.path());
        panic!("a trailing comma");
    }

    #[test]
    #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
    #[isolated(tmpdir)]
    #[should_panic = r"name\value"]
    fn name_value_raw() {
        record(tmpdir.path());
        panic!("a name\\value pair");
    }

    macro_rules! expecting {
        ($name:ident, $literal:literal, $expr:expr) => {
            #[test]
            #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
            #[isolated(tmpdir)]
            #[should_panic(expected = $literal)]
            fn $name() {
                record(tmpdir.path());
                panic!("{}", $expr);
            }
        };
        ($name:ident, $expr:expr) => {
            #[test]
            #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
            #[isolated(tmpdir)]
            #[should_panic(expected = $expr)]
            fn $name() {
                record(tmpdir.path());
                panic!("{}", $expr);
            }
        };
    }
    expecting!(from_a_literal_fragment, "literal", "a literal fragment");
    expecting!(from_an_expr_fragment, "an expr fragment");

    #[test]
    #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
    #[isolated(tmpdir)]
    #[should_panic = "first"]
    #[allow(unused_attributes)]
    #[should_panic = "second"]
    fn two_attributes() {
        record(tmpdir.path());
        panic!("only the second");
    }

    #[isolated(tmpdir)]
    pub(super) mod in_a_module {
        #[test]
        #[ignore = "child process of `every_expected_message_form_is_read_as_libtest_reads_it`"]
        #[should_panic(expected = "module")]
        fn inherits_the_tmpdir() {
            super::record(tmpdir.path());
            panic!("in a module");
        }
    }
}

/// Whether the thread is in group `attribute-edges-held-param` when it is dropped: a serial
/// group this thread holds fails `try_enter` at once, saying so (any other error, a timeout
/// behind another run's member, proves nothing).
struct DropsInGroup(&'static std::sync::atomic::AtomicBool);

impl Drop for DropsInGroup {
    fn drop(&mut self) {
        static SPEC: isolate::Spec = isolate::Spec::for_test(module_path!(), "drops_in_group")
            .serial(&["attribute-edges-held-param"]);
        let held = matches!(
            isolate::try_enter(&SPEC),
            Err(e) if e.to_string().contains("its thread is already a serial member")
        );
        self.0.store(held, std::sync::atomic::Ordering::SeqCst);
    }
}

/// An observed fn (temp dirs and a `Result`) that names its parameter: dropped with the body,
/// in the group.
#[isolated(serial = "attribute-edges-held-param", tmpdir)]
fn names_its_parameter(named: DropsInGroup) -> Result<(), String> {
    let _ = &named;
    Ok(())
}

/// The same, holding it unnamed on purpose (`_held`), as a binding may be.
#[isolated(serial = "attribute-edges-held-param", tmpdir)]
fn holds_its_parameter(_held: DropsInGroup) -> Result<(), String> {
    Ok(())
}

/// A parameter held on purpose was dropped when the fn returned, after the guard had left
/// the group, while one the body named was dropped in it: whatever it guards ended outside.
#[test]
fn an_observed_fn_drops_a_held_parameter_in_its_group_as_a_named_one() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static NAMED: AtomicBool = AtomicBool::new(false);
    static HELD: AtomicBool = AtomicBool::new(false);
    names_its_parameter(DropsInGroup(&NAMED)).unwrap();
    holds_its_parameter(DropsInGroup(&HELD)).unwrap();
    assert!(
        NAMED.load(Ordering::SeqCst),
        "a named parameter drops in the group"
    );
    assert!(
        HELD.load(Ordering::SeqCst),
        "a held parameter drops in the group too"
    );
}
