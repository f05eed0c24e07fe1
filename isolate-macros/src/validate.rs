//! Rules that relate arguments to each other, to an enclosing module's attribute, or to the
//! function. Each check pushes into `Errors` and never stops the others.

use crate::args::{Args, Group};
use crate::errors::{self, Errors};
use crate::item::TestFn;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

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

/// Below `#[rstest]` or `#[test_case]` (or `#[sqlx::test]`) the attribute is not on the fn as
/// written: those macros move the body into a fn of its own, which the attribute never sees,
/// and put the attribute on each generated case, which only calls it. The bindings cannot reach
/// the body, and rustc says so on the body ("cannot find value", "can't capture dynamic
/// environment"), not on the attribute that must move. So: no binding named where it reaches,
/// and either one named inside a nested fn item or a body whose braces no one wrote (a macro's
/// output). A written body that leaves a binding unused is left alone. Called for a fn's own
/// attribute only: a module's bindings serve many tests, some of which may not use them. A
/// name starting with `_` is held unused on purpose, as for any Rust local.
pub(crate) fn check_bindings_reach_body(cx: &Errors, args: &Args, func: &TestFn) {
    let names: Vec<String> = args
        .bindings
        .iter()
        .map(|binding| binding.ident.to_string())
        .filter(|name| !name.starts_with('_'))
        .collect();
    let (mut reached, mut nested, mut kept) = (false, false, false);
    for name in &names {
        let found = where_named(func.body.stream(), name);
        reached |= found.reached;
        nested |= found.in_fn;
        kept |= found.written_block;
    }
    // Braces the user wrote, or that a macro re-spans to the whole block it keeps (tokio,
    // test_log): `{`. Otherwise the macro wrote them, and the user's block is gone only if no
    // block the user wrote is inside (serial_test keeps it in a closure, where a binding the
    // block never names was left unused on purpose). No source map (outside a compiler):
    // unknown, so no error.
    let generated = !written(&func.body) && !kept;
    if names.is_empty() || reached || !(nested || generated) {
        return;
    }
    for binding in &args.bindings {
        let name = binding.ident.to_string();
        if !name.starts_with('_') {
            cx.at(binding.ident.span(), errors::binding_unreachable(&name));
        }
    }
}

/// Whether a group's opening delimiter is one a user wrote: its text is the block's own.
fn written(group: &proc_macro2::Group) -> bool {
    group
        .span_open()
        .source_text()
        .map_or(true, |text| text.starts_with('{'))
}

/// What [`where_named`] found.
struct Found {
    /// Named where a local reaches.
    reached: bool,
    /// Named inside a nested fn item.
    in_fn: bool,
    /// A brace group the user wrote is inside (only known when not `reached`).
    written_block: bool,
}

/// Whether `tokens` name `name` where a local reaches, and whether inside a nested fn item,
/// which cannot capture locals (a `fn(u8)` pointer type is no item: no name follows `fn`).
/// A stack, not recursion: a body nested a thousand levels deep costs no recursion.
fn where_named(tokens: TokenStream, name: &str) -> Found {
    let mut found = Found {
        reached: false,
        in_fn: false,
        written_block: false,
    };
    // Each level: its tokens, and the depth of nested fn bodies it is in.
    let mut stack = vec![(tokens.into_iter().peekable(), 0usize)];
    // The level a fn item's name was seen at: its body is the next brace group on that level,
    // unless a `;` there ends a bodiless one first (`trait T { fn m(&self); }`).
    let mut pending_fn: Option<usize> = None;
    loop {
        let level = stack.len();
        let Some((tokens, fns)) = stack.last_mut() else {
            break;
        };
        let fns = *fns;
        let Some(token) = tokens.next() else {
            stack.pop();
            continue;
        };
        let named = match &token {
            TokenTree::Ident(ident) => ident == name,
            // An inline format argument, `format!("http://127.0.0.1:{port}")`, names it too.
            TokenTree::Literal(literal) => names_in_format(&literal.to_string(), name),
            _ => false,
        };
        if named && fns == 0 {
            found.reached = true;
            return found;
        }
        found.in_fn |= named;
        match token {
            TokenTree::Ident(ident)
                if ident == "fn" && matches!(tokens.peek(), Some(TokenTree::Ident(_))) =>
            {
                pending_fn = Some(level);
            }
            TokenTree::Punct(punct) if punct.as_char() == ';' && pending_fn == Some(level) => {
                pending_fn = None;
            }
            TokenTree::Group(group) => {
                let brace = group.delimiter() == Delimiter::Brace;
                found.written_block |= brace && written(&group);
                let body = brace && pending_fn == Some(level);
                if body {
                    pending_fn = None;
                }
                stack.push((
                    group.stream().into_iter().peekable(),
                    fns + usize::from(body),
                ));
            }
            _ => {}
        }
    }
    found
}

/// Whether a string literal's text holds `{name}` or `{name:...}`, as a format string's
/// inline argument.
fn names_in_format(literal: &str, name: &str) -> bool {
    // A raw string, `r#"{"port": {port}}"#`, is a format string too.
    literal.trim_end_matches('#').ends_with('"')
        && literal.match_indices('{').any(|(at, _)| {
            literal[at + 1..]
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('}') || rest.starts_with(':'))
        })
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

#[cfg(test)]
mod tests {
    use quote::quote;

    fn messages(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<String> {
        let cx = crate::errors::Errors::new();
        let _plan = crate::plan::build(&cx, args, item, false);
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.messages().map(str::to_owned).collect(),
        }
    }

    // A case rstest or test_case generated (`{ let n = 1; f(n).await }`, braces spanned on
    // their attribute) needs a compiler's source map, and ui cases build without `--test`,
    // where those cases vanish: checked by hand on rstest 0.26 and test-case 3 output.
    #[test]
    fn binding_named_only_in_a_nested_fn_is_an_error() {
        let item = quote!(
            fn f() {
                fn f(n: u8) {
                    let _ = (tmpdir, n);
                }
                f(1)
            }
        );
        let errors = messages(quote!(tmpdir), item);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("put `#[isolated(..)]` above that macro"),
            "{errors:?}"
        );
    }

    /// `format!("{reserved_port}")` names the binding: a body that uses it only there (and in
    /// a nested fn) is no error.
    #[test]
    fn a_binding_named_in_a_format_string_reaches() {
        let item = quote!(
            fn f() {
                fn g() -> String {
                    tmpdir.to_string()
                }
                println!("{tmpdir:?} {}", 1);
            }
        );
        assert_eq!(messages(quote!(tmpdir), item), Vec::<String>::new());
        assert!(super::names_in_format(r#""a{port}""#, "port"));
        assert!(super::names_in_format(r#""{port:>5}""#, "port"));
        assert!(!super::names_in_format(r#""{ports}""#, "port"));
    }

    /// A bodiless fn (a trait's required method, `mockall::mock!` input) ends at its `;`: the
    /// next brace group, a closure's, is no fn body, and a binding named there reaches.
    #[test]
    fn a_bodiless_fn_does_not_make_the_next_block_a_fn_body() {
        let item = quote!(
            fn f() {
                trait Tr {
                    fn m(&self);
                }
                let g = || {
                    let _ = &tmpdir;
                };
                g();
            }
        );
        assert_eq!(messages(quote!(tmpdir), item), Vec::<String>::new());
    }

    /// JSON in a raw format string: `format!(r#"{{"port": {port}}}"#)` names `port`.
    #[test]
    fn a_raw_format_string_names_the_binding() {
        let item = quote!(
            fn f() {
                fn g() {
                    let _ = &port;
                }
                let _ = format!(r#"{{"port": "{port:?}"}}"#);
            }
        );
        assert_eq!(messages(quote!(port), item), Vec::<String>::new());
    }

    #[test]
    fn named_bindings_underscores_and_modules_pass() {
        assert!(messages(
            quote!(port),
            quote!(
                fn t() {
                    let _ = { [port] };
                }
            )
        )
        .is_empty());
        assert!(messages(
            quote!(port(_held)),
            quote!(
                fn t() {}
            )
        )
        .is_empty());
        let module = quote!(
            mod m {
                #[test]
                fn t() {}
            }
        );
        assert!(messages(quote!(tmpdir), module).is_empty());
    }
}
