//! Token-level scanning: the pieces of an item the attribute reads (attributes, visibility,
//! comma-separated lists), found without building a syntax tree. The macro does not depend on
//! syn: its parser is most of the build time of a crate that adds `isolate`, and the attribute
//! reads only a few shapes of tokens.

use crate::meta::{self, Meta, Path};
use proc_macro2::{Delimiter, Group, Ident, Punct, Spacing, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};

/// Tokens read front to back.
pub(crate) struct Cursor {
    tokens: Vec<TokenTree>,
    pos: usize,
}

impl Cursor {
    pub(crate) fn new(stream: TokenStream) -> Cursor {
        Cursor {
            tokens: stream.into_iter().collect(),
            pos: 0,
        }
    }

    pub(crate) fn peek(&self) -> Option<&TokenTree> {
        self.tokens.get(self.pos)
    }

    pub(crate) fn peek_nth(&self, n: usize) -> Option<&TokenTree> {
        self.tokens.get(self.pos + n)
    }

    pub(crate) fn next(&mut self) -> Option<TokenTree> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += usize::from(token.is_some());
        token
    }

    /// Where the cursor is, to [`Cursor::rewind`] to after a failed attempt.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn rewind(&mut self, position: usize) {
        self.pos = position;
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    pub(crate) fn peek_ident(&self, name: &str) -> bool {
        self.peek().is_some_and(|token| is_ident(token, name))
    }

    pub(crate) fn next_ident(&mut self, name: &str) -> Option<Ident> {
        match self.peek() {
            Some(TokenTree::Ident(ident)) if ident == name => {
                let ident = ident.clone();
                self.pos += 1;
                Some(ident)
            }
            _ => None,
        }
    }

    /// The tokens not read yet.
    pub(crate) fn rest(&mut self) -> Vec<TokenTree> {
        let rest = self.tokens[self.pos..].to_vec();
        self.pos = self.tokens.len();
        rest
    }

    /// Outer (`#[..]`) or inner (`#![..]`) attributes, as many as come.
    pub(crate) fn attrs(&mut self, inner: bool) -> Vec<Attr> {
        let mut attrs = Vec::new();
        while let (Some(TokenTree::Punct(pound)), bang) = (self.peek(), self.peek_nth(1)) {
            let bang = match bang {
                Some(TokenTree::Punct(bang)) if bang.as_char() == '!' => Some(bang.clone()),
                _ => None,
            };
            let group = self.peek_nth(1 + usize::from(bang.is_some()));
            match group {
                Some(TokenTree::Group(group))
                    if pound.as_char() == '#'
                        && group.delimiter() == Delimiter::Bracket
                        && bang.is_some() == inner =>
                {
                    attrs.push(Attr {
                        pound: pound.clone(),
                        bang,
                        group: group.clone(),
                    });
                    self.pos += 2 + usize::from(inner);
                }
                _ => break,
            }
        }
        attrs
    }

    /// `pub`, `pub(crate)`, `pub(in path)`, or a `$vis:vis` fragment; nothing when private.
    pub(crate) fn visibility(&mut self) -> TokenStream {
        let mut vis = TokenStream::new();
        match self.peek() {
            Some(TokenTree::Ident(ident)) if ident == "pub" => {
                vis.extend(self.next());
                if let Some(TokenTree::Group(group)) = self.peek() {
                    let restricted = group.delimiter() == Delimiter::Parenthesis
                        && group.stream().into_iter().next().is_some_and(|first| {
                            ["crate", "self", "super", "in"]
                                .iter()
                                .any(|word| is_ident(&first, word))
                        });
                    if restricted {
                        vis.extend(self.next());
                    }
                }
            }
            Some(TokenTree::Group(group)) if is_vis_fragment(group) => {
                vis.extend(self.next());
            }
            _ => {}
        }
        vis
    }
}

/// A `$vis:vis` fragment: an invisible group holding nothing (a private item), `pub` or
/// `pub(..)`, and no more (an `$item:item` fragment may start with `pub` too).
pub(crate) fn is_vis_fragment(group: &Group) -> bool {
    let tokens: Vec<TokenTree> = group.stream().into_iter().collect();
    group.delimiter() == Delimiter::None
        && match tokens.as_slice() {
            [] => true,
            [first] => is_ident(first, "pub"),
            [first, TokenTree::Group(restriction)] => {
                is_ident(first, "pub") && restriction.delimiter() == Delimiter::Parenthesis
            }
            _ => false,
        }
}

/// An attribute, kept as written; its path and arguments are parsed when asked for.
#[derive(Clone)]
pub(crate) struct Attr {
    pound: Punct,
    bang: Option<Punct>,
    pub(crate) group: Group,
}

impl Attr {
    /// The path, `test` in `#[test]` and `tokio::test` in `#[tokio::test(..)]`.
    pub(crate) fn path(&self) -> Option<Path> {
        self.meta().map(|meta| meta.path().clone())
    }

    /// The whole attribute as a `Meta`; `None` when it is not one (rustc will say).
    pub(crate) fn meta(&self) -> Option<Meta> {
        meta::parse_one(self.group.stream())
    }

    pub(crate) fn path_is(&self, name: &str) -> bool {
        self.path().is_some_and(|path| path.is_ident(name))
    }

    /// The attribute written on the item: `#![allow(x)]` in a fn's body is `#[allow(x)]` on
    /// the fn.
    pub(crate) fn outer(&self) -> Attr {
        Attr {
            pound: self.pound.clone(),
            bang: None,
            group: self.group.clone(),
        }
    }
}

impl ToTokens for Attr {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append(self.pound.clone());
        tokens.extend(self.bang.clone().map(TokenTree::Punct));
        tokens.append(self.group.clone());
    }
}

/// Whether `name` is a keyword or `_`, which syn does not take as an identifier (the list is
/// syn's: every keyword of every edition, reserved ones included).
pub(crate) fn is_keyword(name: &str) -> bool {
    matches!(
        name,
        "_" | "abstract"
            | "as"
            | "async"
            | "await"
            | "become"
            | "box"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "do"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "final"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "macro"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "override"
            | "priv"
            | "pub"
            | "ref"
            | "return"
            | "Self"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "try"
            | "type"
            | "typeof"
            | "unsafe"
            | "unsized"
            | "use"
            | "virtual"
            | "where"
            | "while"
            | "yield"
    )
}

pub(crate) fn is_ident(token: &TokenTree, name: &str) -> bool {
    matches!(token, TokenTree::Ident(ident) if ident == name)
}

pub(crate) fn is_punct(token: &TokenTree, ch: char) -> bool {
    matches!(token, TokenTree::Punct(punct) if punct.as_char() == ch)
}

/// Whether `tokens[i]` is a `:` on its own, not half of a `::`.
pub(crate) fn is_lone_colon(tokens: &[TokenTree], i: usize) -> bool {
    let joint_colon = |token: &TokenTree| matches!(token, TokenTree::Punct(p) if p.as_char() == ':' && p.spacing() == Spacing::Joint);
    is_punct(&tokens[i], ':') && !joint_colon(&tokens[i]) && !(i > 0 && joint_colon(&tokens[i - 1]))
}

/// The top-level items of a list, split at its commas; empty items (a trailing comma) dropped.
pub(crate) fn comma_separated(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().map_or((), |item| item.push(token)),
        }
    }
    items.retain(|item| !item.is_empty());
    items
}

/// `tokens` with invisible groups (`$x:pat` fragments) opened, as syn reads them.
pub(crate) fn flatten(tokens: impl IntoIterator<Item = TokenTree>) -> Vec<TokenTree> {
    let mut flat = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Group(group) if group.delimiter() == Delimiter::None => {
                flat.extend(flatten(group.stream()));
            }
            other => flat.push(other),
        }
    }
    flat
}
