//! The one place that spells the path generated code uses to reach the runtime.

use proc_macro2::TokenStream;
use quote::quote;

/// `::isolate::__private`: absolute, so a user's `mod isolate` cannot hijack it.
pub(crate) fn private() -> TokenStream {
    quote!(::isolate::__private)
}
