//! Expansion snapshots: one per shape, in `tests/snapshots/<name>.expanded.rs`, formatted with
//! prettyplease. `UPDATE_EXPECT=1 cargo test -p isolate-macros` rewrites them; review the diff.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

fn snapshot_with(name: &str, args: TokenStream, item: TokenStream, bridge: bool) {
    let expanded = crate::pipeline(args, item, bridge);
    let file = syn::parse2::<syn::File>(expanded).expect("the expansion parses as a file");
    let actual = prettyplease::unparse(&file);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/snapshots/{name}.expanded.rs"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual, expected,
        "expansion of `{name}` changed; rerun with UPDATE_EXPECT=1 and review the diff"
    );
}

fn snapshot(name: &str, args: TokenStream, item: TokenStream) {
    snapshot_with(name, args, item, false);
}

#[test]
fn plain_sync_test() {
    snapshot(
        "sync",
        quote!(port, serial = "ws"),
        quote!(
            #[test]
            fn reconnects() {
                assert!(true);
            }
        ),
    );
}

/// Issue 15 item 12: a single-expression body is spliced, not wrapped in braces.
#[test]
fn single_expression_body() {
    snapshot(
        "single-expression",
        quote!(port),
        quote!(
            #[test]
            fn serves() {
                assert!(port.port() > 0)
            }
        ),
    );
}

/// Issue 14: inner attributes are the fn's: written on it, where a macro below that moves the
/// body (`serial_test`'s, with the bridge) cannot make them misplaced.
#[test]
fn inner_attributes_are_the_fns() {
    snapshot(
        "inner-attributes",
        quote!(tmpdir, serial = "ws"),
        quote!(
            #[test]
            fn quiet() {
                #![allow(unused_variables)]
                let unused = 1;
            }
        ),
    );
}

/// Issue 14: `-> Result` with temp dirs: the statements, verbatim, in a closure run at once,
/// its `return`s typed as the fn's.
#[test]
fn result_with_tmpdir_is_observed() {
    snapshot(
        "result-tmpdir",
        quote!(tmpdir(data, logs)),
        quote!(
            #[test]
            fn writes() -> std::io::Result<()> {
                #![allow(unused_variables)]
                std::fs::write(data.join("x"), "y")?;
                Ok(())
            }
        ),
    );
}

/// Issue 15 item 2: an `impl Termination` test's outcome is observed too.
#[test]
fn impl_termination_with_tmpdir() {
    snapshot(
        "impl-termination",
        quote!(tmpdir),
        quote!(
            #[test]
            fn terminates() -> impl std::process::Termination {
                std::process::ExitCode::SUCCESS
            }
        ),
    );
}

/// Parameters (`rstest`, `test_case`) stay as written, patterns too; the closure takes them.
#[test]
fn parameters_pass_through() {
    snapshot(
        "parameters",
        quote!(tmpdir, port),
        quote!(
            #[rstest]
            #[case(1, (2, 3))]
            fn cases<T: Copy>(
                #[case] mut n: u8,
                #[case] (a, b): (u8, u8),
                #[values(1)] t: T,
            ) -> Result<(), String>
            where
                T: Default,
            {
                n += a + b;
                Ok(())
            }
        ),
    );
}

#[test]
fn async_fn() {
    snapshot(
        "async",
        quote!(port, tmpdir, timeout = "1m30s"),
        quote!(
            #[tokio::test]
            async fn serves() -> Result<(), String> {
                Ok(())
            }
        ),
    );
}

#[test]
fn every_resource() {
    snapshot(
        "everything",
        quote!(
            port,
            port6(v6),
            udp,
            udp6(u6),
            reserved_port,
            tmpdir,
            serial = ["ws", "db"],
            shared = "cache",
            max_sockets = 64,
            timeout = "30s"
        ),
        quote!(
            #[test]
            #[should_panic]
            pub fn everything() {}
        ),
    );
}

/// Issue 15 item 10: no `use isolated as _;` unless the module imports `isolated` itself.
#[test]
fn inline_module() {
    snapshot(
        "module",
        quote!(serial = "db"),
        quote!(
            mod tests {
                fn helper() {}
                #[test]
                fn plain() {}
                #[test]
                #[isolated(port)]
                fn own() {}
                #[test_case::test_matrix([1, 2])]
                fn matrix(n: u8) {}
                #[cfg_attr(test, test)]
                fn wrapped() {}
                mod nested {
                    use super::isolated;
                    #[test]
                    fn deep() {}
                    #[test]
                    #[isolated(tmpdir)]
                    fn deeper() {}
                }
            }
        ),
    );
}

#[test]
fn fallback_on_error() {
    snapshot(
        "fallback",
        quote!(port, max_sockets = 0),
        quote!(
            #[test]
            fn broken() {
                #![allow(unused_variables)]
                let _ = port;
            }
        ),
    );
}

/// Issue 15 items 14, 15: the `serial_test` bridge, one attribute per key in key order, and
/// `"default"` as `serial_test`'s unnamed key.
#[test]
fn serial_test_bridge() {
    snapshot_with(
        "bridge",
        quote!(serial = ["ws", "db-1"], shared = ["default", "cache"]),
        quote!(
            #[test]
            fn bridged() {}
        ),
        true,
    );
}

/// Issue 17: fixtures bound by path, beside a resource; and with the body moved into a closure
/// (temp dir + `Result`), which takes the resolved fixture.
#[test]
fn fixtures() {
    snapshot(
        "fixture",
        quote!(fixture(db = DB, cache = crate::fixtures::CACHE), port),
        quote!(
            #[test]
            fn reads_users() {
                assert!(db.url.starts_with("postgres://"));
            }
        ),
    );
    snapshot(
        "fixture-observed",
        quote!(fixture(db = DB), tmpdir),
        quote!(
            #[test]
            fn exports() -> std::io::Result<()> {
                #![allow(unused_mut)]
                std::fs::write(tmpdir.join("url"), &db.url)
            }
        ),
    );
}

/// Issue 19: process-wide state and a fresh process, beside a binding and a group.
#[test]
fn process_wide_state() {
    snapshot(
        "process",
        quote!(env, cwd(read), fresh_process, tmpdir, serial = "ws"),
        quote!(
            #[test]
            #[should_panic(expected = "boom")]
            fn configures() {
                std::env::set_var("MODE", "test");
                panic!("boom");
            }
        ),
    );
}

/// An `unsafe fn` (a helper: libtest runs no unsafe fn) observed for its `Result`: the closure
/// is in the fn's unsafe context, and no `unsafe` block is added.
#[test]
fn unsafe_fn_observed() {
    snapshot(
        "unsafe-observed",
        quote!(tmpdir),
        quote!(
            pub unsafe extern "C" fn copies(byte: *const u8) -> std::io::Result<()> {
                std::fs::write(tmpdir.join("byte"), [*byte])
            }
        ),
    );
}
