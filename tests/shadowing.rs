//! The expansion resolves to the real `isolate`, `core` and prelude items whatever the user's
//! crate defines next to the test, and its guard cannot collide with a user's local.
#![allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]

mod isolate {}
mod core {}
mod std {}
struct Option;
struct Some;
struct None;
struct Duration;
struct Spec;
struct SPEC;
fn drop() {}
fn enter() {}

#[::isolate::isolated(port, tmpdir, serial = "shadowing", timeout = "30s")]
#[test]
fn resolves_through_shadowing() {
    let __isolate_guard = 5; // a user local named like ours: both coexist
    assert_eq!(__isolate_guard, 5);
    assert_ne!(port.port(), 0);
    assert!(tmpdir.path().is_dir());
}
