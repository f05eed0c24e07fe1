//! `Meta` (`key`, `key(..)`, `key = value`) without syn's `full` feature, which alone parses
//! arrays, blocks and closures as expressions. A value is kept as its tokens up to the next
//! comma (`Expr::Verbatim`) whatever syn's features, so the attribute reads the same tokens
//! when another crate in the build turns `full` on; it reads literals, paths, `-1` and arrays
//! of literals from them, and points at the value's tokens for anything else.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::discouraged::Speculative;
use syn::parse::ParseStream;
use syn::{Expr, Meta, MetaNameValue, Token};

/// One `Meta`, ending at a comma or at the end of `input`.
pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Meta> {
    if let Some(pair) = name_value(input)? {
        return Ok(Meta::NameValue(pair));
    }
    // A path or a list: syn's own, the same with or without `full`. Anything after it that is
    // not a comma is the caller's error ("expected `,`").
    input.parse()
}

/// `path = tokens up to the next comma`, or `None` when `input` is not of that form.
fn name_value(input: ParseStream<'_>) -> syn::Result<Option<MetaNameValue>> {
    let fork = input.fork();
    let mut path = TokenStream::new();
    while !fork.is_empty() && !fork.peek(Token![,]) && !is_assignment(&fork) {
        path.extend([fork.parse::<TokenTree>()?]);
    }
    if !is_assignment(&fork) {
        return Ok(None);
    }
    let Ok(Meta::Path(path)) = syn::parse2::<Meta>(path) else {
        return Ok(None);
    };
    let eq_token = fork.parse::<Token![=]>()?;
    let mut value = TokenStream::new();
    while !fork.is_empty() && !fork.peek(Token![,]) {
        value.extend([fork.parse::<TokenTree>()?]);
    }
    if value.is_empty() {
        return Err(fork.error("expected an expression"));
    }
    input.advance_to(&fork);
    Ok(Some(MetaNameValue {
        path,
        eq_token,
        value: Expr::Verbatim(value),
    }))
}

/// A `=` that is not the start of `==` or `=>`.
fn is_assignment(input: ParseStream<'_>) -> bool {
    input.peek(Token![=]) && !input.peek(Token![==]) && !input.peek(Token![=>])
}

/// `a, b = c, d(..)`, trailing comma allowed.
pub(crate) fn parse_list(input: ParseStream<'_>) -> syn::Result<Vec<Meta>> {
    let mut metas = Vec::new();
    while !input.is_empty() {
        metas.push(parse(input)?);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(metas)
}

#[cfg(test)]
mod tests {
    use quote::{quote, ToTokens};
    use syn::parse::Parser;
    use syn::Meta;

    /// Values are their tokens up to the next comma, whatever syn's features: the tests build
    /// syn with `full` (a dev-dependency asks for it), users without.
    #[test]
    fn values_are_kept_as_tokens() {
        let metas = super::parse_list
            .parse2(quote!(
                a = ["x", "y"],
                b = { 1 },
                c = || x,
                d(e = f),
                g,
                h = -1,
            ))
            .unwrap();
        let shown: Vec<String> = metas
            .iter()
            .map(|meta| match meta {
                Meta::NameValue(pair) => {
                    assert!(matches!(pair.value, syn::Expr::Verbatim(_)));
                    pair.value.to_token_stream().to_string()
                }
                other => other.to_token_stream().to_string(),
            })
            .collect();
        assert_eq!(
            shown,
            ["[\"x\" , \"y\"]", "{ 1 }", "|| x", "d (e = f)", "g", "- 1"]
        );
        assert!(super::parse_list.parse2(quote!(a =)).is_err());
        assert!(super::parse_list.parse2(quote!(a b)).is_err());
    }
}
