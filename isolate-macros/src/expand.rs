//! Plan -> tokens. The only file besides `fallback.rs` that uses `quote!`; it never fails,
//! because everything that could fail was reported while planning.
//!
//! A test's expansion is: the guard, the bindings, then the body. The body stays the fn's own
//! body (its tokens spliced in after the bindings, its inner attributes made the fn's), so
//! `return`, `?`, labels and error spans mean what they meant. Only a test with temp dirs that
//! returns something (a `Result`, an `ExitCode`, an `impl Termination`) has its statements
//! moved, as written, into a closure run at once, so the guard sees the outcome and keeps the
//! dirs of a failing one.

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};

use crate::bridge;
use crate::item::TestFn;
use crate::paths::{private, private_at};
use crate::plan::{ModPlan, Plan, Planned, TestPlan};
use crate::resource::{Kind, KINDS, TMPDIR};
use crate::scan::Attr;

/// Emits a plan that passed every check.
pub(crate) fn emit(plan: Plan) -> TokenStream {
    match plan {
        Plan::Fn(test) => test_fn(test),
        Plan::Mod(module) => walk(module, &test_fn),
        Plan::Untouched(tokens) => tokens,
    }
}

/// Emits a module, each of its tests (also in nested modules) through `emit_test`.
pub(crate) fn walk(plan: ModPlan, emit_test: &dyn Fn(TestPlan) -> TokenStream) -> TokenStream {
    let items = plan.items.into_iter().map(|item| match item {
        Planned::Test(test) => emit_test(test),
        Planned::Mod(nested) => walk(nested, emit_test),
        Planned::Item(item) => item.into_token_stream(),
    });
    let imports = plan
        .consumed_imports
        .iter()
        .map(|name| quote!(#[allow(unused_imports)] use #name as _;));
    let mut tokens = TokenStream::new();
    plan.module.header(&mut tokens);
    if let Ok(content) = &plan.module.content {
        let inner = &content.inner_attrs;
        tokens.extend(
            content
                .braced(quote!(#(#inner)* #(#items)* #(#imports)*))
                .into_token_stream(),
        );
    }
    tokens
}

/// The guard's name: mixed-site, so the body can neither see nor shadow it.
fn guard() -> Ident {
    Ident::new("__isolate_guard", Span::mixed_site())
}

/// One test fn: the guard, the bindings, then the body.
// By value to share `walk`'s callback type with `fallback`, which consumes the plan.
#[allow(clippy::needless_pass_by_value)]
fn test_fn(plan: TestPlan) -> TokenStream {
    let private = private();
    let guard = guard();
    let spec = spec(&plan);
    let args = &plan.args;
    let bridge = if plan.bridge {
        bridge::attributes(args)
    } else {
        TokenStream::new()
    };
    let mutability = (!args.bindings.is_empty()).then(|| quote!(mut));
    // A fresh process's parent returns here what the child's test ended with.
    // Spanned on the return type: a type the parent cannot produce (one that is not `()`, a
    // `Result` or an `ExitCode`) is an error on it, not on the attribute.
    let fork = args.fresh_process.is_some().then(|| {
        let span = plan
            .func
            .sig
            .return_type
            .first()
            .map_or_else(Span::call_site, TokenTree::span);
        let private = private_at(span);
        quote_spanned! {span=>
            if let ::core::option::Option::Some(passed) = #private::fork(&SPEC) {
                return passed;
            }
        }
    });
    let enter = quote! {
        let #mutability #guard = {
            static SPEC: #private::Spec = #spec;
            #fork
            #private::enter(&SPEC)
        };
    };
    let mut counts = [0usize; KINDS.len()];
    let lets = args.bindings.iter().map(|binding| {
        let slot = KINDS.iter().position(|kind| *kind == binding.kind).unwrap_or(0);
        let index = Literal::usize_unsuffixed(counts[slot]);
        counts[slot] += 1;
        let ident = &binding.ident;
        let ty = type_ident(binding.kind);
        let variant = Ident::new(binding.kind.variant, Span::call_site());
        quote! {
            #[allow(unused_variables)]
            let #ident = #private::take::<#private::#ty>(&mut #guard, #private::Resource::#variant, #index);
        }
    });
    let fixtures = args.fixtures.iter().map(|fixture| {
        let (ident, path) = (&fixture.ident, &fixture.path);
        quote! {
            #[allow(unused_variables)]
            let #ident = #private::fixture(&#guard, &#path);
        }
    });
    // Without isolate's `fixture` feature, an error on the first binding that says how to
    // turn it on, before rustc's "cannot find function `fixture`".
    let feature = args.fixtures.first().map(|fixture| {
        let private = private_at(fixture.ident.span());
        quote_spanned!(fixture.ident.span() => #private::fixture_feature!();)
    });
    let (inner, stmts) = plan.func.split_body();
    let tail = match observed(&plan) {
        None => stmts,
        Some(observed) => {
            let outcome = Ident::new("__isolate_outcome", Span::mixed_site());
            let run = run_body(&plan, &stmts);
            let finish = match observed {
                Observed::Termination => quote!(#guard.finish_termination(#outcome)),
                // Whatever the type: an `Outcome` is recorded, any other value (a helper's
                // `u64`) is not, as autoref picks the first trait that applies.
                Observed::Value => quote! {
                    {
                        #[allow(unused_imports)]
                        use #private::{ObserveAny as _, ObserveOutcome as _};
                        (&#private::Observe(&#outcome)).observe(#guard);
                    }
                    #outcome
                },
            };
            // The body's braces are kept inside ours (see `run_body`): a one-line body with
            // one expression in them is no `unused_braces` of the user's.
            quote! {
                #[allow(unused_braces)]
                let #outcome = #run;
                #finish
            }
        }
    };
    let TestFn {
        attrs, vis, sig, ..
    } = &plan.func;
    // Outside the body: a macro below (serial_test's, with the bridge) may move the body where
    // no inner attribute is permitted.
    let inner = inner.iter().map(Attr::outer);
    quote! {
        #(#attrs)* #(#inner)* #bridge
        #vis #sig {
            #feature
            #enter
            #(#lets)*
            #(#fixtures)*
            #tail
        }
    }
}

/// What the guard observes of a returned value.
enum Observed {
    /// Its outcome, if it is an `Outcome` (a `Result`, an `ExitCode`).
    Value,
    /// An opaque `impl Termination`, reported as the harness would.
    Termination,
}

/// How the guard observes the outcome, when it must: only a test with temp dirs that
/// returns something can fail without a panic, and a value `test_case` compares is no outcome.
fn observed(plan: &TestPlan) -> Option<Observed> {
    if !plan
        .args
        .bindings
        .iter()
        .any(|binding| binding.kind == TMPDIR)
        || crate::test_attr::returns_compared_value(&plan.func.attrs)
    {
        return None;
    }
    match plan.func.sig.return_type.as_slice() {
        // `()`, `!`
        [] => None,
        [TokenTree::Group(unit)]
            if unit.delimiter() == Delimiter::Parenthesis && unit.stream().is_empty() =>
        {
            None
        }
        [TokenTree::Punct(never)] if never.as_char() == '!' => None,
        // Only `impl Termination` can be reported; any other opaque value (a helper's
        // `impl Iterator`) fails only by panicking.
        [first, bounds @ ..] if crate::scan::is_ident(first, "impl") => {
            names_termination(bounds).then_some(Observed::Termination)
        }
        _ => Some(Observed::Value),
    }
}

/// Whether the first bound of `impl ..` is `Termination` (`std::process::Termination`).
fn names_termination(bounds: &[TokenTree]) -> bool {
    let path = bounds.iter().take_while(|token| {
        matches!(token, TokenTree::Ident(_)) || crate::scan::is_punct(token, ':')
    });
    path.last()
        .is_some_and(|last| crate::scan::is_ident(last, "Termination"))
}

/// The body's statements in a closure run at once (an async block awaited, for an async fn),
/// whose value the guard then sees. A closure, not an inner fn: the body still names `Self`,
/// the impl's generics and the fn itself (to recurse), and `return` and `?` stay the body's.
/// `move`, so each binding (also one the body never names) and each parameter the body names
/// or holds unnamed (`_name`) is dropped when the body ends, before the guard, in the groups;
/// only one the body never names (rustc warns of it as unused) and a `_` one are dropped when
/// the fn returns, after the guard, as every parameter is in a fn without temp dirs. Its `return`s are typed as the
/// fn's return type before the body is checked, so `Ok(Box::new(x))` is a `Box<dyn Trait>`
/// and a closure in the value gets its parameter types, as in the fn (an `impl Trait` in it is
/// left to inference). Unsafe operations need what they needed: a closure in an `unsafe fn`
/// is in its unsafe context.
fn run_body(plan: &TestPlan, stmts: &TokenStream) -> TokenStream {
    let private = private();
    let returned = Ident::new("__isolate_returned", Span::mixed_site());
    let typed = plan.func.sig.return_type_inferred().map(|ty| {
        quote! {
            if let ::core::option::Option::Some(#returned) = ::core::option::Option::None::<#ty> {
                return #returned;
            }
        }
    });
    // A parameter held unnamed on purpose (`_lock`) is moved in too, as a binding is. One the
    // body never names otherwise is left out: rustc warns of it as unused (a capture would
    // silence that), and the fix it suggests, `_name`, then moves it in.
    let held = plan
        .func
        .parameter_names()
        .into_iter()
        .filter(|name| name.to_string().starts_with('_') && name != "_");
    let captures = plan
        .args
        .bindings
        .iter()
        .map(|binding| binding.ident.clone())
        .chain(held)
        .map(|ident| {
            // Ours, not a use of `_held` in the user's code (clippy's pedantic lint): the
            // ident keeps its span, which a `macro_rules!` caller's hygiene needs.
            let allow = ident
                .to_string()
                .starts_with('_')
                .then(|| quote!(#[allow(clippy::used_underscore_binding)]));
            quote!(#allow let _ = &#ident;)
        });
    // The statements in the body's own braces, after ours: a body that yields the wrong type
    // (a `;` after its last expression) is an error on the body, as in the fn, not on the
    // attribute; and an item first in the body is first in its block (no pedantic
    // `items_after_statements`).
    let mut body = Group::new(Delimiter::Brace, stmts.clone());
    body.set_span(plan.func.body.span());
    let block = quote!({ #typed #(#captures)* #body });
    if plan.func.sig.asyncness.is_some() {
        quote!(async move #block.await)
    } else {
        quote!(#private::run(move || #block))
    }
}

/// The binding's type in `__private`, from the resource table.
pub(crate) fn type_ident(kind: Kind) -> Ident {
    Ident::new(kind.ty, Span::call_site())
}

/// The static `Spec` describing what the test asked for, built with the runtime's `const fn`
/// builders.
fn spec(plan: &TestPlan) -> TokenStream {
    let private = private();
    let TestPlan { args, func, .. } = plan;
    let test = unraw(&func.sig.ident);
    let mut spec = quote!(#private::Spec::for_test(::core::module_path!(), #test));
    for kind in KINDS {
        let names: Vec<String> = args
            .bindings
            .iter()
            .filter(|binding| binding.kind == kind)
            .map(|binding| unraw(&binding.ident))
            .collect();
        if !names.is_empty() {
            let variant = Ident::new(kind.variant, Span::call_site());
            spec.extend(quote!(.bind(#private::Resource::#variant, &[#(#names),*])));
        }
    }
    if !args.serial.is_empty() {
        let names = args.serial.iter().map(|group| &group.name);
        spec.extend(quote!(.serial(&[#(#names),*])));
    }
    if !args.shared.is_empty() {
        let names = args.shared.iter().map(|group| &group.name);
        spec.extend(quote!(.shared(&[#(#names),*])));
    }
    if let Some((n, _)) = args.max_sockets {
        let n = Literal::u32_unsuffixed(n);
        spec.extend(quote!(.max_sockets(#n)));
    }
    if let Some((ms, _)) = args.timeout {
        let ms = Literal::u64_unsuffixed(ms);
        spec.extend(quote!(.timeout(::core::time::Duration::from_millis(#ms))));
    }
    // The message only where it is needed: a fresh process's parent, and the guard deciding
    // whether a panic with another message (a failure) keeps the temp dirs.
    let has_tmpdir = args.bindings.iter().any(|binding| binding.kind == TMPDIR);
    match func
        .expected_panic()
        .filter(|_| args.fresh_process.is_some() || has_tmpdir)
    {
        Some(expected) => spec.extend(quote!(.expects_panic_containing(#expected))),
        None if func.expects_panic() => spec.extend(quote!(.expects_panic())),
        None => {}
    }
    for held in &args.states {
        let builder = Ident::new(held.kind.key, Span::call_site());
        let access = Ident::new(if held.read { "Read" } else { "Write" }, Span::call_site());
        spec.extend(quote!(.#builder(#private::Access::#access)));
    }
    if args.fresh_process.is_some() {
        spec.extend(quote!(.fresh_process()));
    }
    spec
}

/// The name as the user reads it: `r#try` is `try`.
fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}
