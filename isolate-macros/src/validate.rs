//! Rules that relate arguments to each other, to an enclosing module's attribute, or to the
//! function. Each check pushes into `Errors` and never stops the others.

use crate::args::{Args, Group};
use crate::errors::{self, Errors};
use crate::item::TestFn;

/// Checks one attribute's arguments among themselves.
pub(crate) fn check_args(cx: &Errors, args: &Args) {
    check_duplicate_bindings(cx, args);
    check_serial_and_shared(cx, args);
}

/// Checks the (possibly merged) arguments against the function they expand on.
pub(crate) fn check_fn(cx: &Errors, args: &Args, func: &TestFn) {
    check_not_const(cx, func);
    check_not_method(cx, func);
    check_should_panic_value(cx, func);
    check_bindings_against_parameters(cx, args, func);
    check_fresh_process_return(cx, args, func);
}

/// The parent of a fresh process returns the passing value itself (`Passed::passed()`), so
/// an opaque `impl Termination` cannot be produced.
fn check_fresh_process_return(cx: &Errors, args: &Args, func: &TestFn) {
    if args.fresh_process.is_none() {
        return;
    }
    let ty = &func.sig.return_type;
    if ty
        .first()
        .is_some_and(|first| crate::scan::is_ident(first, "impl"))
    {
        cx.spanned(
            ty.iter().cloned().collect::<proc_macro2::TokenStream>(),
            errors::FRESH_PROCESS_RETURN,
        );
    }
}

/// Two bindings with one name would shadow each other: the first resource would be
/// unreachable while still held.
fn check_duplicate_bindings(cx: &Errors, args: &Args) {
    let names: Vec<&proc_macro2::Ident> = args.binding_names().collect();
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            cx.at(name.span(), errors::duplicate_binding(&name.to_string()));
        }
    }
}

/// A test joins each group one way: exclusive and shared at once has no meaning.
fn check_serial_and_shared(cx: &Errors, args: &Args) {
    for group in &args.shared {
        if args.serial.iter().any(|serial| serial.name == group.name) {
            cx.at(group.span, errors::serial_and_shared(&group.name));
        }
    }
}

/// A `const fn` cannot acquire anything at run time.
fn check_not_const(cx: &Errors, func: &TestFn) {
    if let Some(constness) = &func.sig.constness {
        cx.at(constness.span(), errors::CONST_FN);
    }
}

/// Test harnesses call free functions; a receiver means this is not a test.
fn check_not_method(cx: &Errors, func: &TestFn) {
    if let Some(receiver) = func.sig.receiver() {
        cx.spanned(&receiver.tokens, errors::METHOD);
    }
}

/// `#[should_panic = concat!(..)]` means a different test to each rustc; the guard could not
/// agree with libtest on whether the test passed.
fn check_should_panic_value(cx: &Errors, func: &TestFn) {
    if let Some(value) = func.should_panic_not_a_literal() {
        cx.spanned(&value, errors::SHOULD_PANIC_NOT_A_LITERAL);
    }
}

/// A binding named like a parameter would shadow it (`rstest` and `test_case` pass parameters,
/// also as patterns: `#[case] (port, b): (u8, u8)`).
fn check_bindings_against_parameters(cx: &Errors, args: &Args, func: &TestFn) {
    let parameters = func.parameter_names();
    for name in args.binding_names() {
        if parameters.contains(name) {
            cx.at(
                name.span(),
                errors::binding_shadows_parameter(&name.to_string()),
            );
        }
    }
}

/// Combines an enclosing module's arguments with a test's own: bindings and groups add up,
/// the test's own `max_sockets` and `timeout` win. Conflicts are reported on the test's tokens.
pub(crate) fn merge(cx: &Errors, outer: &Args, own: &Args) -> Args {
    let mut merged = outer.clone();
    let taken: Vec<&proc_macro2::Ident> = outer.binding_names().collect();
    let clashes = |ident: &proc_macro2::Ident| {
        let clash = taken.contains(&ident);
        if clash {
            cx.at(ident.span(), errors::duplicate_binding(&ident.to_string()));
        }
        clash
    };
    for binding in &own.bindings {
        if !clashes(&binding.ident) {
            merged.bindings.push(binding.clone());
        }
    }
    for fixture in &own.fixtures {
        if !clashes(&fixture.ident) {
            merged.add_fixture(cx, fixture.clone());
        }
    }
    add_groups(cx, &mut merged.serial, &own.serial, &outer.shared);
    add_groups(cx, &mut merged.shared, &own.shared, &outer.serial);
    merged.max_sockets = own.max_sockets.or(outer.max_sockets);
    merged.timeout = own.timeout.or(outer.timeout);
    merged.states = crate::process::merge(&outer.states, &own.states);
    merged.fresh_process = own.fresh_process.or(outer.fresh_process);
    merged
}

fn add_groups(cx: &Errors, into: &mut Vec<Group>, own: &[Group], other_mode: &[Group]) {
    for group in own {
        if other_mode.iter().any(|other| other.name == group.name) {
            cx.at(group.span, errors::serial_and_shared(&group.name));
        } else if !into.iter().any(|existing| existing.name == group.name) {
            into.push(group.clone());
        }
    }
}
