//! `Meta` (`key`, `key(..)`, `key = value`): the grammar of the attribute's arguments and of
//! any attribute's path, read from tokens. A value is kept as its tokens up to the next comma;
//! `args.rs` reads literals, paths, `-1` and arrays of literals from them (`lit.rs`), and points
//! at the value's tokens for anything else. Parse errors say what syn's `Meta` parser says, at
//! the same token.

use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};

use crate::errors::Error;
use crate::scan::{self, Cursor};

/// `a::b`, `::a`, keywords allowed (`#[crate::x]`), as written.
#[derive(Clone)]
pub(crate) struct Path {
    pub(crate) leading_colon: bool,
    pub(crate) segments: Vec<Ident>,
    tokens: TokenStream,
}

impl Path {
    /// The path's one identifier, when it is one (`port`, not `::port` or `a::port`).
    pub(crate) fn get_ident(&self) -> Option<&Ident> {
        match self.segments.as_slice() {
            [ident] if !self.leading_colon => Some(ident),
            _ => None,
        }
    }

    pub(crate) fn is_ident(&self, name: &str) -> bool {
        self.get_ident().is_some_and(|ident| ident == name)
    }

    /// The path as written, without spaces: `::a::b`.
    pub(crate) fn text(&self) -> String {
        let root = if self.leading_colon { "::" } else { "" };
        let segments: Vec<String> = self.segments.iter().map(ToString::to_string).collect();
        root.to_owned() + &segments.join("::")
    }
}

impl ToTokens for Path {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.tokens.clone());
    }
}

/// `key(..)`, `key[..]`, `key{..}`.
pub(crate) struct MetaList {
    pub(crate) path: Path,
    pub(crate) group: Group,
    pub(crate) tokens: TokenStream,
}

/// `key = value`.
pub(crate) struct MetaNameValue {
    pub(crate) path: Path,
    eq_token: Punct,
    pub(crate) value: TokenStream,
}

pub(crate) enum Meta {
    Path(Path),
    List(MetaList),
    NameValue(MetaNameValue),
}

impl Meta {
    pub(crate) fn path(&self) -> &Path {
        match self {
            Meta::Path(path) => path,
            Meta::List(list) => &list.path,
            Meta::NameValue(pair) => &pair.path,
        }
    }
}

impl MetaList {
    /// Whether the list is in parentheses, the one delimiter the arguments take.
    pub(crate) fn is_parenthesized(&self) -> bool {
        self.group.delimiter() == Delimiter::Parenthesis
    }
}

impl ToTokens for MetaList {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.path.to_tokens(tokens);
        tokens.append(self.group.clone());
    }
}

impl ToTokens for Meta {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Meta::Path(path) => path.to_tokens(tokens),
            Meta::List(list) => list.to_tokens(tokens),
            Meta::NameValue(pair) => {
                pair.path.to_tokens(tokens);
                tokens.append(pair.eq_token.clone());
                tokens.extend(pair.value.clone());
            }
        }
    }
}

/// `a, b = c, d(..)`, trailing comma allowed.
pub(crate) fn parse_list(tokens: TokenStream) -> Result<Vec<Meta>, Error> {
    let mut cursor = cursor(tokens);
    let mut metas = Vec::new();
    while !cursor.is_empty() {
        metas.push(meta(&mut cursor)?);
        match cursor.next() {
            None => break,
            Some(comma) if scan::is_punct(&comma, ',') => {}
            Some(other) => return Err(Error::new(open_span(&other), "expected `,`")),
        }
    }
    Ok(metas)
}

/// An attribute's contents as one `Meta`; `None` when they are not one.
pub(crate) fn parse_one(tokens: TokenStream) -> Option<Meta> {
    let mut cursor = cursor(tokens);
    let meta = meta(&mut cursor).ok()?;
    cursor.is_empty().then_some(meta)
}

/// `tokens` with `$x:meta` and `$x:expr` fragments' invisible groups opened, as syn reads them.
fn cursor(tokens: TokenStream) -> Cursor {
    Cursor::new(scan::flatten(tokens).into_iter().collect())
}

/// Names separated by commas (`port(a, b)`), or the span of the first token that is not one.
pub(crate) fn idents(tokens: TokenStream) -> Result<Vec<Ident>, Span> {
    let tokens = scan::flatten(tokens);
    let mut names = Vec::new();
    let mut iter = tokens.iter();
    while let Some(token) = iter.next() {
        match token {
            TokenTree::Ident(ident) if !scan::is_keyword(&ident.to_string()) => {
                names.push(ident.clone());
            }
            other => return Err(open_span(other)),
        }
        match iter.next() {
            None => break,
            Some(comma) if scan::is_punct(comma, ',') => {}
            Some(other) => return Err(open_span(other)),
        }
    }
    Ok(names)
}

/// Where syn points for a token: a group's opening delimiter.
fn open_span(token: &TokenTree) -> Span {
    match token {
        TokenTree::Group(group) => group.span_open(),
        other => other.span(),
    }
}

/// An error at `token`, or at the end of the input.
fn error_at(token: Option<&TokenTree>, message: &str) -> Error {
    match token {
        Some(token) => Error::new(open_span(token), message),
        None => Error::new(
            Span::call_site(),
            format!("unexpected end of input, {message}"),
        ),
    }
}

fn meta(cursor: &mut Cursor) -> Result<Meta, Error> {
    let path = path(cursor)?;
    match cursor.peek() {
        Some(TokenTree::Group(group)) if group.delimiter() != Delimiter::None => {
            let group = group.clone();
            cursor.next();
            Ok(Meta::List(MetaList {
                path,
                tokens: group.stream(),
                group,
            }))
        }
        Some(TokenTree::Punct(eq)) if is_assignment(eq, cursor.peek_nth(1)) => {
            let eq_token = eq.clone();
            cursor.next();
            let mut value = TokenStream::new();
            while cursor
                .peek()
                .is_some_and(|token| !scan::is_punct(token, ','))
            {
                value.extend(cursor.next());
            }
            if value.is_empty() {
                return Err(error_at(cursor.peek(), "expected an expression"));
            }
            Ok(Meta::NameValue(MetaNameValue {
                path,
                eq_token,
                value,
            }))
        }
        _ => Ok(Meta::Path(path)),
    }
}

/// A `=` that is not the start of `==` or `=>`.
fn is_assignment(eq: &Punct, next: Option<&TokenTree>) -> bool {
    eq.as_char() == '='
        && !(eq.spacing() == Spacing::Joint
            && next.is_some_and(|next| scan::is_punct(next, '=') || scan::is_punct(next, '>')))
}

/// A path as syn's `Meta` reads one (`Path::parse_mod_style`): no keyword is a segment but
/// `crate`, `self`, `super` and `Self`, and a lone `unsafe` is a whole path
/// (`#[unsafe(no_mangle)]`); the errors are syn's.
fn path(cursor: &mut Cursor) -> Result<Path, Error> {
    if let Some(unsafe_token) = cursor.next_ident("unsafe") {
        return Ok(Path {
            leading_colon: false,
            tokens: TokenTree::Ident(unsafe_token.clone()).into(),
            segments: vec![unsafe_token],
        });
    }
    let mut tokens = TokenStream::new();
    let leading_colon = path_separator(cursor, &mut tokens);
    let mut segments = Vec::new();
    let mut trailing_separator = false;
    while let Some(TokenTree::Ident(ident)) = cursor.peek() {
        let name = ident.to_string();
        if scan::is_keyword(&name) && !["crate", "self", "super", "Self"].contains(&name.as_str()) {
            break;
        }
        segments.push(ident.clone());
        tokens.extend(cursor.next());
        trailing_separator = path_separator(cursor, &mut tokens);
        if !trailing_separator {
            break;
        }
    }
    if segments.is_empty() {
        let message = match cursor.peek() {
            Some(TokenTree::Ident(keyword)) => {
                format!("expected identifier, found keyword `{keyword}`")
            }
            _ => "expected identifier".to_owned(),
        };
        return Err(error_at(cursor.peek(), &message));
    }
    if trailing_separator {
        return Err(error_at(cursor.peek(), "expected path segment after `::`"));
    }
    Ok(Path {
        leading_colon,
        segments,
        tokens,
    })
}

/// Takes a `::` if one comes next.
fn path_separator(cursor: &mut Cursor, tokens: &mut TokenStream) -> bool {
    let separator = matches!(
        (cursor.peek(), cursor.peek_nth(1)),
        (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
            if first.as_char() == ':' && first.spacing() == Spacing::Joint && second.as_char() == ':'
    );
    if separator {
        tokens.extend(cursor.next());
        tokens.extend(cursor.next());
    }
    separator
}

#[cfg(test)]
mod tests {
    use quote::{quote, ToTokens};

    use super::Meta;

    /// Values are their tokens up to the next comma; each form keeps its tokens.
    #[test]
    fn values_are_kept_as_tokens() {
        let metas = super::parse_list(quote!(
            a = ["x", "y"],
            b = { 1 },
            c = || x,
            d(e = f),
            ::g::h,
            j = -1,
        ))
        .unwrap();
        let shown: Vec<String> = metas
            .iter()
            .map(|meta| match meta {
                Meta::NameValue(pair) => pair.value.to_string(),
                other => other.to_token_stream().to_string(),
            })
            .collect();
        assert_eq!(
            shown,
            [
                "[\"x\" , \"y\"]",
                "{ 1 }",
                "|| x",
                "d (e = f)",
                ":: g :: h",
                "- 1"
            ]
        );
    }

    /// `#[$attr]` with `$attr:meta` from a `macro_rules!`: the contents arrive in an invisible
    /// group (`tests/fresh_process.rs` writes `#[should_panic(..)]` that way).
    #[test]
    fn a_meta_fragment_parses() {
        let fragment = proc_macro2::Group::new(
            proc_macro2::Delimiter::None,
            quote!(should_panic(expected = "x")),
        );
        let meta = super::parse_one(proc_macro2::TokenTree::Group(fragment).into()).unwrap();
        assert!(meta.path().is_ident("should_panic"));
    }

    /// The messages syn's `Meta` parser gives for the same mistakes.
    #[test]
    fn parse_errors() {
        let message = |tokens| match super::parse_list(tokens) {
            Ok(_) => String::new(),
            Err(error) => error.messages().next().unwrap().to_owned(),
        };
        assert_eq!(message(quote!(a b)), "expected `,`");
        assert_eq!(message(quote!(a == 1)), "expected `,`");
        assert_eq!(
            message(quote!(a =)),
            "unexpected end of input, expected an expression"
        );
        assert_eq!(message(quote!(a = , b)), "expected an expression");
        // syn 3's `Meta` (the `main` macro's parser) reads its path with
        // `Path::parse_mod_style`, not `parse_nested_meta`'s wording.
        assert_eq!(message(quote!("a")), "expected identifier");
        assert_eq!(message(quote!(a, , b)), "expected identifier");
        assert_eq!(
            message(quote!(::)),
            "unexpected end of input, expected identifier"
        );
        assert_eq!(
            message(quote!(a::)),
            "unexpected end of input, expected path segment after `::`"
        );
        assert_eq!(message(quote!(a::1)), "expected path segment after `::`");
        assert_eq!(
            message(quote!(port, async)),
            "expected identifier, found keyword `async`"
        );
        assert_eq!(message(quote!(_)), "expected identifier, found keyword `_`");
        assert_eq!(message(quote!(a::fn)), "expected path segment after `::`");
        assert_eq!(message(quote!(crate::a, self, Self, super::b)), "");
        assert_eq!(message(quote!(unsafe(x))), "");
        assert_eq!(message(quote!(unsafe::x)), "expected `,`");
    }
}
