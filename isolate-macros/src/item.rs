//! Parse the item the attribute is written on: a test fn, or an inline module of tests.
//!
//! Parsing is shallow on purpose: a function body stays an unparsed token group (it is emitted
//! verbatim, a body that does not parse yet still expands, and a body nested a thousand levels
//! deep costs no recursion), and a module is split into items without parsing any fn body.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{ToTokens, TokenStreamExt};
use syn::parse::discouraged::Speculative;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, Pat, Signature, Token, Visibility};

use crate::errors::{self, Errors};

/// A function, with its body kept as unparsed tokens.
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
        let body = match input.parse()? {
            proc_macro2::TokenTree::Group(group) => unwrap_invisible(group),
            other => return Err(syn::Error::new(other.span(), "expected a function body")),
        };
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

/// A body passed through `macro_rules!` as a `$body:block` fragment arrives wrapped in an
/// invisible group; the braces inside are the body.
fn unwrap_invisible(group: Group) -> Group {
    if group.delimiter() != Delimiter::None {
        return group;
    }
    let mut inside = group.stream().into_iter();
    match (inside.next(), inside.next()) {
        (Some(proc_macro2::TokenTree::Group(body)), None) => body,
        _ => group,
    }
}

impl ToTokens for TestFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}

impl TestFn {
    /// Every name the fn's parameters bind, also inside patterns (`(a, b): (u8, u8)`).
    pub(crate) fn parameter_names(&self) -> Vec<&Ident> {
        let mut names = Vec::new();
        for arg in &self.sig.inputs {
            if let FnArg::Typed(typed) = arg {
                pattern_names(&typed.pat, &mut names);
            }
        }
        names
    }

    /// Whether the test is expected to panic, so a panic counts as a pass.
    pub(crate) fn expects_panic(&self) -> bool {
        self.attrs
            .iter()
            .any(|attr| attr.path().is_ident("should_panic"))
    }

    /// The body's leading inner attributes (`#![allow(..)]`) and the statements after them.
    pub(crate) fn split_body(&self) -> (Vec<Attribute>, TokenStream) {
        let parser = |input: ParseStream<'_>| {
            let inner = input.call(Attribute::parse_inner)?;
            Ok((inner, input.parse::<TokenStream>()?))
        };
        syn::parse::Parser::parse2(parser, self.body.stream())
            .unwrap_or_else(|_: syn::Error| (Vec::new(), self.body.stream()))
    }
}

fn pattern_names<'a>(pat: &'a Pat, names: &mut Vec<&'a Ident>) {
    match pat {
        Pat::Ident(pat) => {
            names.push(&pat.ident);
            if let Some((_, sub)) = &pat.subpat {
                pattern_names(sub, names);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|p| pattern_names(p, names)),
        Pat::Struct(pat) => pat
            .fields
            .iter()
            .for_each(|field| pattern_names(&field.pat, names)),
        Pat::Reference(pat) => pattern_names(&pat.pat, names),
        Pat::Paren(pat) => pattern_names(&pat.pat, names),
        Pat::Type(pat) => pattern_names(&pat.pat, names),
        Pat::Or(pat) => pat.cases.iter().for_each(|p| pattern_names(p, names)),
        _ => {}
    }
}

/// An inline module, split into items without parsing any fn body.
pub(crate) struct Module {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) mod_token: Token![mod],
    pub(crate) ident: Ident,
    /// `None` for a file module `mod name;`, with the span of its `;`.
    pub(crate) content: Result<Content, Span>,
}

pub(crate) struct Content {
    pub(crate) brace: Span,
    pub(crate) inner_attrs: Vec<Attribute>,
    pub(crate) items: Vec<ModItem>,
}

/// One item of a module: the ones `#[isolated]` looks into, and the rest as written.
// A module holds tens of items, an expansion one item: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum ModItem {
    Fn(TestFn),
    Mod(Module),
    Use(syn::ItemUse),
    Other(TokenStream),
}

impl Parse for Module {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let mod_token = input.parse()?;
        let ident = input.parse()?;
        if let Ok(semi) = input.parse::<Token![;]>() {
            return Ok(Module {
                attrs,
                vis,
                mod_token,
                ident,
                content: Err(semi.span),
            });
        }
        let body;
        let brace = syn::braced!(body in input);
        let inner_attrs = body.call(Attribute::parse_inner)?;
        let mut items = Vec::new();
        while !body.is_empty() {
            items.push(body.parse()?);
        }
        Ok(Module {
            attrs,
            vis,
            mod_token,
            ident,
            content: Ok(Content {
                brace: brace.span.join(),
                inner_attrs,
                items,
            }),
        })
    }
}

impl Parse for ModItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let fork = input.fork();
        if let Ok(func) = fork.parse::<TestFn>() {
            input.advance_to(&fork);
            return Ok(ModItem::Fn(func));
        }
        let fork = input.fork();
        if let Ok(module) = fork.parse::<Module>() {
            input.advance_to(&fork);
            return Ok(ModItem::Mod(module));
        }
        Ok(match input.parse::<syn::Item>()? {
            syn::Item::Use(item) => ModItem::Use(item),
            other => ModItem::Other(other.into_token_stream()),
        })
    }
}

impl ToTokens for ModItem {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            ModItem::Fn(func) => func.to_tokens(tokens),
            ModItem::Mod(module) => module.to_tokens(tokens),
            ModItem::Use(item) => item.to_tokens(tokens),
            ModItem::Other(item) => item.to_tokens(tokens),
        }
    }
}

impl ToTokens for Module {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.header(tokens);
        match &self.content {
            Ok(content) => {
                let Content {
                    inner_attrs, items, ..
                } = content;
                tokens.append(content.braced(quote::quote!(#(#inner_attrs)* #(#items)*)));
            }
            Err(span) => tokens.append_all(quote::quote_spanned!(*span=> ;)),
        }
    }
}

impl Module {
    /// Everything before the braces.
    pub(crate) fn header(&self, tokens: &mut TokenStream) {
        tokens.append_all(&self.attrs);
        self.vis.to_tokens(tokens);
        self.mod_token.to_tokens(tokens);
        self.ident.to_tokens(tokens);
    }
}

impl Content {
    /// `stream` in braces carrying the module's own brace span.
    pub(crate) fn braced(&self, stream: TokenStream) -> Group {
        let mut group = Group::new(Delimiter::Brace, stream);
        group.set_span(self.brace);
        group
    }
}

/// What the attribute was written on.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Item {
    Fn(TestFn),
    Mod(Module),
}

/// Parses `tokens` as a fn or a module. `None` means the item is not valid Rust at all (or
/// is another kind of item, reported into `cx`): the caller emits it unchanged, so rustc
/// reports the real syntax error.
pub(crate) fn parse(cx: &Errors, tokens: TokenStream) -> Option<Item> {
    if let Ok(func) = syn::parse2::<TestFn>(tokens.clone()) {
        return Some(Item::Fn(func));
    }
    if let Ok(module) = syn::parse2::<Module>(tokens.clone()) {
        if let Err(semi) = module.content {
            cx.at(semi, errors::file_module(&module.ident.to_string()));
            return None;
        }
        return Some(Item::Mod(module));
    }
    if syn::parse2::<syn::Item>(tokens.clone()).is_ok() {
        cx.at(keyword_span(tokens), errors::NOT_A_FN_OR_MOD);
    }
    None
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

#[cfg(test)]
mod fragment_tests {
    use proc_macro2::{Delimiter, Group, TokenStream};
    use quote::quote;

    use super::TestFn;

    #[test]
    fn a_body_in_an_invisible_group_parses() {
        let body = Group::new(
            Delimiter::None,
            quote!({
                assert!(true);
            }),
        );
        let mut tokens: TokenStream = quote!(#[test] fn t());
        tokens.extend([proc_macro2::TokenTree::Group(body)]);
        let parsed = syn::parse2::<TestFn>(tokens);
        assert!(parsed.is_ok(), "{}", parsed.err().unwrap());
    }
}
