//! The `serial_test` bridge (feature `serial_test`): each group is also written as
//! `serial_test`'s own attribute, so it resolves to the `serial_test` the user's suite depends on,
//! whatever its version, and migrated and unmigrated tests in one binary exclude each other.
//!
//! The spelling is the one every `serial_test` since 0.9 accepts: one key per attribute
//! (0.9 reads a second name as a file path), the key an identifier (4.x refuses string keys),
//! `#[serial]` / `#[parallel]` with no key for `serial_test`'s unnamed key, which isolate spells
//! `"default"`. Attributes come in sorted key order, so two tests nest `serial_test`'s locks
//! the same way and cannot deadlock.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::args::{Args, Group};
use crate::errors::{self, Errors, DEFAULT_GROUP};

/// Names `serial_test` reads as options, not keys, in some version.
const OPTIONS: [&str; 4] = ["path", "crate", "inner_attrs", "timeout_ms"];

/// Each group name must be a key `serial_test` can take.
pub(crate) fn check(cx: &Errors, args: &Args) {
    for group in args.serial.iter().chain(&args.shared) {
        if group.name != DEFAULT_GROUP && !is_key(&group.name) {
            cx.at(
                group.span,
                errors::bridge_key(&group.name, &suggestion(&group.name)),
            );
        }
    }
}

fn is_key(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name != "_"
        && !OPTIONS
            .iter()
            .any(|option| option.eq_ignore_ascii_case(name))
        && syn::parse_str::<Ident>(name).is_ok()
}

fn suggestion(name: &str) -> String {
    let mut key: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !key.starts_with(|c: char| c.is_ascii_alphabetic()) || !is_key(&key) {
        key.insert_str(0, "group_");
    }
    key
}

/// `serial_test`'s attributes for the test's groups, in key order.
pub(crate) fn attributes(args: &Args) -> TokenStream {
    let mut keyed: Vec<(&Group, &str)> = args
        .serial
        .iter()
        .map(|group| (group, "serial"))
        .chain(args.shared.iter().map(|group| (group, "parallel")))
        .collect();
    keyed.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    keyed
        .into_iter()
        .map(|(group, mode)| {
            let mode = Ident::new(mode, Span::call_site());
            if group.name == DEFAULT_GROUP {
                quote!(#[::serial_test::#mode])
            } else {
                let key = Ident::new(&group.name, group.span);
                quote!(#[::serial_test::#mode(#key)])
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for good in ["db", "ws_2", "_x", "Default"] {
            assert!(is_key(good), "{good}");
        }
        for bad in [
            "a-b",
            "1st",
            "db/users",
            "path",
            "Crate",
            "timeout_ms",
            "_",
            "fn",
        ] {
            assert!(!is_key(bad), "{bad}");
        }
        assert_eq!(suggestion("a-b"), "a_b");
        assert_eq!(suggestion("1st"), "group_1st");
        assert_eq!(suggestion("path"), "group_path");
    }
}
