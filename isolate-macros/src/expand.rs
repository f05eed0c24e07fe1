//! Plan -> tokens. The only file besides `fallback.rs` that uses `quote!`; it never fails,
//! because everything that could fail was reported while planning.
//!
//! A test's expansion is: the guard, the bindings, then the body. The body stays the fn's own
//! body (its tokens spliced in after the bindings, its inner attributes hoisted to the top), so
//! `return`, `?`, labels and error spans mean what they meant. Only a test with temp dirs that
//! returns something (a `Result`, an `ExitCode`, an `impl Termination`) has its body moved, as
//! written, into an inner fn of the same name, so the guard sees the outcome and keeps the dirs
//! of a failing one.

use proc_macro2::{Delimiter, Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};

use crate::bridge;
use crate::item::TestFn;
use crate::paths::{private, private_at};
use crate::plan::{ModPlan, Plan, Planned, TestPlan};
use crate::resource::{Kind, KINDS, TMPDIR};

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
    match observed(&plan) {
        None => {
            let (inner, body) = plan.func.split_body();
            let TestFn {
                attrs, vis, sig, ..
            } = &plan.func;
            quote! {
                #(#attrs)* #bridge
                #vis #sig {
                    #(#inner)*
                    #feature
                    #enter
                    #(#lets)*
                    #(#fixtures)*
                    #body
                }
            }
        }
        Some(finish) => {
            let asyncness = plan.func.sig.asyncness.is_some();
            let (outer_sig, inner_fn, call) = split_into_inner_fn(&plan);
            let TestFn { attrs, vis, .. } = &plan.func;
            // Resolved (or failed) before the body; the inner fn reads the resolved values.
            let fixtures = args.fixtures.iter().map(|fixture| {
                let path = &fixture.path;
                quote!(let _ = #private::fixture(&#guard, &#path);)
            });
            // The inner fn of an `unsafe fn` is `unsafe` too; the caller's contract is the
            // outer fn's. Never an `unused_unsafe`: a block in an `unsafe fn` is not reported.
            let call = if plan.func.sig.unsafety.is_some() {
                quote!(unsafe { #call })
            } else {
                call
            };
            let call = if asyncness { quote!(#call.await) } else { call };
            quote! {
                #(#attrs)* #bridge
                #vis #outer_sig {
                    #inner_fn
                    #feature
                    #enter
                    #(#lets)*
                    #(#fixtures)*
                    #guard.#finish(#call)
                }
            }
        }
    }
}

/// How the guard observes the outcome, when it must: only a test with temp dirs that
/// returns something can fail without a panic, and a value `test_case` compares is no outcome.
fn observed(plan: &TestPlan) -> Option<Ident> {
    if !plan
        .args
        .bindings
        .iter()
        .any(|binding| binding.kind == TMPDIR)
        || crate::test_attr::returns_compared_value(&plan.func.attrs)
    {
        return None;
    }
    let finish = match plan.func.sig.return_type.as_slice() {
        // `()`, `!`
        [] => return None,
        [TokenTree::Group(unit)]
            if unit.delimiter() == Delimiter::Parenthesis && unit.stream().is_empty() =>
        {
            return None
        }
        [TokenTree::Punct(never)] if never.as_char() == '!' => return None,
        [first, ..] if crate::scan::is_ident(first, "impl") => "finish_termination",
        _ => "finish",
    };
    Some(Ident::new(finish, Span::call_site()))
}

/// The outer signature (parameters kept, each passed on), the inner fn holding the body as
/// written, and the call of it.
fn split_into_inner_fn(plan: &TestPlan) -> (TokenStream, TokenStream, TokenStream) {
    let private = private();
    let func = &plan.func;
    let mut outer_params: Vec<TokenStream> = Vec::new();
    let mut inner_params: Vec<TokenStream> = plan
        .args
        .bindings
        .iter()
        .map(|binding| {
            let ident = &binding.ident;
            let ty = type_ident(binding.kind);
            quote!(#[allow(unused_variables)] #ident: #private::#ty)
        })
        .collect();
    // Fixtures are not passed: the inner fn reads them itself (their type is not ours to name).
    let mut passed: Vec<TokenStream> = plan
        .args
        .bindings
        .iter()
        .map(|binding| binding.ident.to_token_stream())
        .collect();
    for (i, param) in func.sig.inputs.iter().enumerate() {
        if param.receiver {
            continue;
        }
        let (attrs, ty) = (&param.attrs, &param.ty);
        // A plain name is kept (rstest finds fixtures by it); `mut` moves to the inner fn.
        if let Some((mutability, ident)) = param.plain_name() {
            outer_params.push(quote!(#(#attrs)* #ident: #ty));
            inner_params.push(quote!(#mutability #ident: #ty));
            passed.push(ident.to_token_stream());
        } else {
            // A pattern is matched by the inner fn; the outer one passes the value on.
            let pat = &param.pat;
            let value = Ident::new(&format!("__isolate_arg{i}"), Span::mixed_site());
            outer_params.push(quote!(#(#attrs)* #value: #ty));
            inner_params.push(quote!(#pat: #ty));
            passed.push(value.to_token_stream());
        }
    }
    let outer = func.sig.with_params(&quote!(#(#outer_params),*), true);
    let body = if plan.args.fixtures.is_empty() {
        func.body.to_token_stream()
    } else {
        let (inner_attrs, stmts) = func.split_body();
        let lets = plan.args.fixtures.iter().map(|fixture| {
            let (ident, path) = (&fixture.ident, &fixture.path);
            quote!(#[allow(unused_variables)] let #ident = #private::fixture_value(&#path);)
        });
        quote!({ #(#inner_attrs)* #(#lets)* #stmts })
    };
    let mut inner = func.sig.with_params(&quote!(#(#inner_params),*), false);
    inner.extend(body);
    let ident = &func.sig.ident;
    // Spelled out: a parameter that no argument names (`T::name()` in the body) cannot be
    // inferred.
    let generic_args = func.sig.generic_args();
    (outer, inner, quote!(#ident #generic_args (#(#passed),*)))
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
