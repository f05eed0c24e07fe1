//! Compile-time misuse of `#[isolated]`: each case's error, its span and its wording are pinned
//! by `tests/ui/*.stderr`. Regenerate with `TRYBUILD=overwrite cargo test --test compiletest`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
