//! Implementation detail of the `isolate` crate: the `#[isolated]` attribute.
//!
//! Everything below the entry point works on `proc_macro2` tokens so it can be unit-tested.

mod args;
mod errors;
mod expand;
mod item;
mod paths;
mod validate;

use proc_macro::TokenStream;

// Documented on the re-export in the `isolate` crate.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn isolated(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::isolated(args.into(), item.into()).into()
}
