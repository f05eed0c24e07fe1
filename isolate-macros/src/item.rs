//! Parse the item the attribute is written on: a test fn, or an inline module of tests.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, Pat, Signature, Visibility};

use crate::errors::{self, Errors};

/// A function, with its body kept as unparsed tokens: it is emitted verbatim, and a body that
/// does not parse yet (while the user types) still expands.
pub(crate) struct TestFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Group,
}

impl Parse for TestFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body: Group = input.parse()?;
        if body.delimiter() != Delimiter::Brace {
            return Err(syn::Error::new(body.span(), "expected a function body"));
        }
        Ok(TestFn {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

impl TestFn {
    /// Names of the fn's parameters that are plain identifiers (`x: u32`, `mut x: u32`).
    pub(crate) fn parameter_names(&self) -> impl Iterator<Item = &syn::Ident> {
        self.sig.inputs.iter().filter_map(|arg| match arg {
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) => Some(&pat.ident),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
    }

    /// Whether the test is expected to panic, so a panic counts as a pass.
    pub(crate) fn expects_panic(&self) -> bool {
        self.attrs
            .iter()
            .any(|attr| attr.path().is_ident("should_panic"))
    }
}

/// What the attribute was written on.
// One value per expansion: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    Fn(TestFn),
    Mod(syn::ItemMod),
}

/// Parses `tokens` as a fn or an inline module. `None` means the item is not valid Rust at
/// all: the caller emits it unchanged so that rustc reports the real syntax error.
pub(crate) fn parse(cx: &Errors, tokens: TokenStream) -> Option<Item> {
    if let Ok(func) = syn::parse2::<TestFn>(tokens.clone()) {
        return Some(Item::Fn(func));
    }
    match syn::parse2::<syn::Item>(tokens.clone()) {
        Ok(syn::Item::Mod(module)) => {
            if module.content.is_none() {
                let span = module
                    .semi
                    .as_ref()
                    .map_or(module.ident.span(), |semi| semi.span);
                cx.at(span, errors::file_module(&module.ident.to_string()));
            }
            Some(Item::Mod(module))
        }
        Ok(_) => {
            cx.at(keyword_span(tokens), errors::NOT_A_FN_OR_MOD);
            None
        }
        Err(_) => None,
    }
}

/// The span of the item's first token after attributes and visibility: `struct`, `impl`, ...
fn keyword_span(tokens: TokenStream) -> Span {
    let parser = |input: ParseStream<'_>| {
        input.call(Attribute::parse_outer)?;
        input.parse::<Visibility>()?;
        let span = input.cursor().span();
        input.parse::<TokenStream>()?;
        Ok(span)
    };
    syn::parse::Parser::parse2(parser, tokens).unwrap_or_else(|_: syn::Error| Span::call_site())
}

/// Whether an attribute marks a test for a harness: `#[test]`, `#[tokio::test]`, `#[rstest]`,
/// `#[test_case(..)]`, `#[test_log::test]` and the like.
pub(crate) fn is_test_attribute(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|segment| {
        ["test", "rstest", "test_case"].contains(&segment.ident.to_string().as_str())
    })
}

/// Whether an attribute is `#[isolated(..)]` or `#[isolate::isolated(..)]`.
pub(crate) fn is_isolated_attribute(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "isolated")
}
