//! The `serial_test` bridge (feature `serial_test`): each group is also written as
//! `serial_test`'s own attribute, so it resolves to the `serial_test` the user's suite depends on,
//! whatever its version, and migrated and unmigrated tests in one binary exclude each other.
//!
//! The spelling is the one every `serial_test` since 0.9 accepts: one key per attribute
//! (0.9 reads a second name as a file path), the key an identifier (4.x refuses string keys),
//! `#[serial]` / `#[parallel]` with no key for `serial_test`'s unnamed key, which isolate spells
//! `"default"`. Attributes come in sorted key order, so two tests nest `serial_test`'s locks
//! the same way and cannot deadlock.
//!
//! A helper with parameters or generics gets none: `serial_test`'s attribute drops them, and
//! its lock has no other stable spelling (its core fns take a non-capturing `fn()`, whose
//! body could not see the helper's arguments). Its groups exclude every `#[isolated]` test,
//! and the unmigrated `serial_test` tests of a key only while its caller holds that key:
//! called from a `#[serial(k)]` test it takes isolate's lock inside `serial_test`'s, as a
//! migrated test does, so the two cannot deadlock; called from another test, it can overlap
//! them. Not an error: without an unmigrated test of the key in the binary there is no
//! overlap, and the macro cannot see the binary's other tests (`src/lib.md` says so).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::args::{Args, Group};
use crate::errors::DEFAULT_GROUP;

/// Names `serial_test` reads as options, not keys, in some version.
const OPTIONS: [&str; 4] = ["path", "crate", "inner_attrs", "timeout_ms"];

/// The `serial_test` key for a group: the name itself when it is an identifier `serial_test`
/// takes as a key, else the name with `_` for each other character (and a leading `_` for a
/// leading digit, a trailing `_` for a keyword or an option name). Two groups may share a key
/// that way; that only adds exclusion between them, never removes any.
fn key(name: &str) -> String {
    let mut key: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        key.insert(0, '_');
    }
    let reserved = OPTIONS
        .iter()
        .any(|option| option.eq_ignore_ascii_case(&key));
    if reserved || crate::scan::is_keyword(&key) {
        key.push('_');
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
                let key = Ident::new(&key(&group.name), group.span);
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
        for same in ["db", "ws_2", "_x", "Default"] {
            assert_eq!(key(same), same);
        }
        assert_eq!(key("a-b"), "a_b");
        assert_eq!(key("db/users:v2"), "db_users_v2");
        assert_eq!(key("1st"), "_1st");
        assert_eq!(key("path"), "path_");
        assert_eq!(key("Crate"), "Crate_");
        assert_eq!(key("fn"), "fn_");
        assert_eq!(key("_"), "__");
    }

    /// `serial_test`'s attribute drops a fn's parameters and generics: only a fn without them,
    /// or one a test attribute below turns into such fns, gets it.
    #[test]
    fn only_on_fns_serial_test_can_wrap() {
        let bridged = |item: TokenStream| {
            crate::pipeline(quote!(serial = "g"), item, true)
                .to_string()
                .contains("serial_test")
        };
        assert!(bridged(quote!(
            fn helper() {}
        )));
        assert!(bridged(quote!(
            #[rstest::rstest]
            #[case(1)]
            fn cases(#[case] x: u8) {}
        )));
        assert!(!bridged(quote!(
            fn helper(x: u8) {}
        )));
        assert!(!bridged(quote!(
            fn helper<T>() {}
        )));
    }
}
