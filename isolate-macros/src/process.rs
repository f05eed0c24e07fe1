//! The process-wide keys, which bind no local: `env` / `env(read)` and `cwd` / `cwd(read)` (the
//! environment variables and the working directory, held as a writer or a reader), and
//! `fresh_process` (the test runs in a process of its own). Their grammar, the merge with a
//! module's arguments and the descriptor's builder calls all read [`STATES`].

use crate::meta::Meta;
use proc_macro2::{Span, TokenTree};

use crate::errors::{self, Errors};

/// A piece of process-wide state a test holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct StateKind {
    /// The attribute key, also the name of the `Spec` builder that holds it.
    pub(crate) key: &'static str,
}

pub(crate) const STATES: [StateKind; 2] = [StateKind { key: "env" }, StateKind { key: "cwd" }];

pub(crate) const FRESH_PROCESS: &str = "fresh_process";

/// The one argument a state key takes: `env(read)`.
const READ: &str = "read";

/// One state a test holds, and how.
#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub(crate) kind: StateKind,
    pub(crate) read: bool,
}

pub(crate) fn by_key(key: &str) -> Option<StateKind> {
    STATES.into_iter().find(|kind| kind.key == key)
}

/// `env` (a writer) or `env(read)` (a reader).
pub(crate) fn parse_state(cx: &Errors, kind: StateKind, meta: &Meta) -> Option<Held> {
    let key = kind.key;
    match meta {
        Meta::Path(_) => Some(Held { kind, read: false }),
        Meta::List(list) if !list.is_parenthesized() => {
            cx.at(list.group.span(), errors::state_form(key));
            None
        }
        Meta::List(list) => match crate::scan::flatten(list.tokens.clone()).as_slice() {
            [TokenTree::Ident(ident)] if ident == READ => Some(Held { kind, read: true }),
            [TokenTree::Ident(ident)] if !crate::scan::is_keyword(&ident.to_string()) => {
                cx.at(ident.span(), errors::state_form(key));
                None
            }
            [] => {
                cx.spanned(list, errors::state_form(key));
                None
            }
            _ => {
                cx.spanned(&list.tokens, errors::state_form(key));
                None
            }
        },
        Meta::NameValue(pair) => {
            cx.spanned(&pair.value, errors::state_form(key));
            None
        }
    }
}

/// `fresh_process`, which takes nothing.
pub(crate) fn parse_fresh_process(cx: &Errors, meta: &Meta) -> Option<Span> {
    match meta {
        Meta::Path(path) => Some(path.segments[0].span()),
        Meta::List(list) => {
            cx.at(list.group.span(), errors::FRESH_PROCESS_FORM);
            None
        }
        Meta::NameValue(pair) => {
            cx.spanned(&pair.value, errors::FRESH_PROCESS_FORM);
            None
        }
    }
}

/// A module's states with a test's own: a writer anywhere makes the test a writer.
pub(crate) fn merge(outer: &[Held], own: &[Held]) -> Vec<Held> {
    let mut merged = outer.to_vec();
    for held in own {
        match merged.iter_mut().find(|earlier| earlier.kind == held.kind) {
            Some(earlier) => earlier.read &= held.read,
            None => merged.push(held.clone()),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn meta(tokens: proc_macro2::TokenStream) -> Meta {
        crate::meta::parse_one(tokens).unwrap()
    }

    #[test]
    fn a_writer_wins_the_merge() {
        let cx = Errors::new();
        let env = by_key("env").unwrap();
        let reader = parse_state(&cx, env, &meta(quote!(env(read)))).unwrap();
        let writer = parse_state(&cx, env, &meta(quote!(env))).unwrap();
        cx.check().unwrap();
        assert!(reader.read && !writer.read);
        let merged = merge(std::slice::from_ref(&reader), &[writer]);
        assert_eq!(merged.len(), 1);
        assert!(!merged[0].read);
        assert!(merge(std::slice::from_ref(&reader), std::slice::from_ref(&reader))[0].read);
    }
}
