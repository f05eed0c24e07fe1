//! Implementation detail of the `isolate` crate: the `#[isolated]` attribute.
//!
//! The pipeline, one phase per module: `args` and `item` parse, `validate` checks, `plan`
//! decides what each test gets (walking a module), `expand` emits; on any error `fallback`
//! emits the user's item with our errors instead. Everything below the entry point works on
//! `proc_macro2` tokens so it can be unit-tested.

mod args;
mod bridge;
mod errors;
mod expand;
mod fallback;
mod item;
mod lit;
mod meta;
mod paths;
mod plan;
mod process;
mod resource;
mod scan;
mod test_attr;
mod validate;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod snapshots;

use proc_macro::TokenStream;

// Documented on the re-export in the `isolate` crate.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn isolated(args: TokenStream, item: TokenStream) -> TokenStream {
    pipeline(args.into(), item.into(), cfg!(feature = "serial_test")).into()
}

/// Parse, check and plan; then emit the plan, or our errors beside the item.
fn pipeline(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
    bridge: bool,
) -> proc_macro2::TokenStream {
    let cx = errors::Errors::new();
    let plan = plan::build(&cx, args, item, bridge);
    match cx.check() {
        Ok(()) => expand::emit(plan),
        Err(error) => fallback::emit(plan, error),
    }
}
