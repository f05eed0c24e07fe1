//! What generated code declares bindings with when the attribute has errors.

/// Stands in for a binding's value in code that never runs: `#[isolated]` emits it only
/// beside a `compile_error!`, so that the body adds no errors of its own.
///
/// # Panics
///
/// Always; it is never called by code that compiles.
#[doc(hidden)]
#[must_use]
pub fn unavailable<T>() -> T {
    unreachable!("`#[isolated]` emits this only in code that does not compile")
}
