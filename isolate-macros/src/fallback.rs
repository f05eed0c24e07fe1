//! What to emit when there are errors: our errors, then the user's item as written minus our
//! attribute, each test's bindings declared as placeholders so that the body adds no errors
//! of its own beside ours (no "cannot find value `port`").

use proc_macro2::TokenStream;
use quote::quote;

use crate::expand;
use crate::paths::private;
use crate::plan::{Plan, TestPlan};

/// `error` as `compile_error!`s beside the item.
pub(crate) fn emit(plan: Plan, error: crate::errors::Error) -> TokenStream {
    let errors = error.into_compile_error();
    let item = match plan {
        Plan::Fn(test) => test_fn(test),
        Plan::Mod(module) => expand::walk(module, &test_fn),
        Plan::Untouched(tokens) => tokens,
    };
    quote!(#errors #item)
}

/// The fn as written, placeholders first. No const-context errors about the placeholders, and
/// no placeholder shadowing a parameter of the same name.
fn test_fn(mut plan: TestPlan) -> TokenStream {
    let private = private();
    plan.func.sig.constness = None;
    let sig = &plan.func.sig;
    let parameters = plan.func.parameter_names();
    let lets = plan
        .args
        .bindings
        .iter()
        .filter(|binding| !parameters.contains(&binding.ident))
        .map(|binding| {
            let ident = &binding.ident;
            let ty = expand::type_ident(binding.kind);
            quote!(#[allow(unused_variables)] let #ident: #private::#ty = #private::unavailable();)
        });
    let fixtures = plan
        .args
        .fixtures
        .iter()
        .filter(|fixture| !parameters.contains(&fixture.ident))
        .map(|fixture| {
            let (ident, path) = (&fixture.ident, &fixture.path);
            quote!(#[allow(unused_variables)] let #ident = #private::fixture_unavailable(&#path);)
        });
    let (inner, body) = plan.func.split_body();
    let attrs = &plan.func.attrs;
    let vis = &plan.func.vis;
    quote!(#(#attrs)* #vis #sig { #(#inner)* #(#lets)* #(#fixtures)* #body })
}
