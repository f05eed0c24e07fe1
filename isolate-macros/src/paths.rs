//! The one place that spells the path generated code uses to reach the runtime.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// `::isolate::__private`: absolute, so a user's `mod isolate` cannot hijack it.
pub(crate) fn private() -> TokenStream {
    private_at(Span::call_site())
}

/// [`private`] with every token at `span`: an error raised inside what the path names (a
/// `compile_error!` in a `macro_rules!`) is shown at the span of the call's first token.
pub(crate) fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span => ::isolate::__private)
}
