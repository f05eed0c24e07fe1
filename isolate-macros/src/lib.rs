//! Implementation detail of the `isolate` crate.

use proc_macro::TokenStream;

// Documented on the re-export in the `isolate` crate.
#[allow(missing_docs)]
#[proc_macro_attribute]
pub fn isolated(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}
