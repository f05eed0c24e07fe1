//! Which attributes mark a function as a test, for `#[isolated]` on a module: a function with
//! one of them is a test and gets the module's arguments; other functions are left alone.
//!
//! The list, matched on the attribute's path:
//!
//! | attribute | written as |
//! |---|---|
//! | std | `#[test]`, `#[core::prelude::v1::test]`, `#[std::prelude::rust_2021::test]` |
//! | async runtimes | `#[tokio::test]`, `#[async_std::test]`, `#[actix_rt::test]`, `#[actix_web::test]` |
//! | others ending in `::test` | `#[sqlx::test]`, `#[test_log::test]`, `#[googletest::test]` |
//! | rstest | `#[rstest]`, `#[rstest::rstest]` |
//! | test-case | `#[test_case(..)]`, `#[test_matrix(..)]`, `#[test_case::case(..)]` and their `test_case::` paths |
//! | others | `#[wasm_bindgen_test]`, `#[quickcheck]` |
//! | wrapped | any of these inside `#[cfg_attr(predicate, ..)]` |
//!
//! An attribute outside the list whose name contains `test` (`#[my_test]`) might mark a test
//! we would silently skip; when the module asks for groups, a budget or a timeout, that is an
//! error rather than a test running without its exclusion.

use crate::meta::Meta;
use crate::scan::Attr;
use proc_macro2::TokenStream;
use quote::ToTokens;

/// Last path segments that mark a test whatever the crate: `test` covers std and every
/// runtime's `::test`.
const TEST_NAMES: [&str; 6] = [
    "test",
    "rstest",
    "test_case",
    "test_matrix",
    "wasm_bindgen_test",
    "quickcheck",
];

/// What a function's attributes say about it.
pub(crate) enum Mark {
    /// It has a known test attribute.
    Test,
    /// It has no known test attribute, but the one at this path looks like one.
    LooksLikeTest(TokenStream),
    /// It is not a test.
    Plain,
}

/// Classifies a function by its attributes.
pub(crate) fn mark(attrs: &[Attr]) -> Mark {
    let mut looks_like = None;
    for attr in attrs {
        let Some(meta) = attr.meta() else { continue };
        match meta_mark(&meta) {
            Mark::Test => return Mark::Test,
            Mark::LooksLikeTest(path) => looks_like = looks_like.or(Some(path)),
            Mark::Plain => {}
        }
    }
    looks_like.map_or(Mark::Plain, Mark::LooksLikeTest)
}

fn meta_mark(meta: &Meta) -> Mark {
    let path = meta.path();
    if path.is_ident("cfg_attr") {
        return cfg_attr_mark(meta);
    }
    let Some(last) = path.segments.last() else {
        return Mark::Plain;
    };
    let name = last.to_string();
    let test_case_alias =
        name == "case" && path.segments.len() == 2 && path.segments[0] == "test_case";
    if TEST_NAMES.contains(&name.as_str()) || test_case_alias {
        Mark::Test
    } else if name.contains("test") {
        Mark::LooksLikeTest(path.to_token_stream())
    } else {
        Mark::Plain
    }
}

/// `#[cfg_attr(predicate, a, b)]`: the strongest mark among `a`, `b`.
fn cfg_attr_mark(meta: &Meta) -> Mark {
    let Meta::List(list) = meta else {
        return Mark::Plain;
    };
    let Ok(items) = crate::meta::parse_list(list.tokens.clone()) else {
        return Mark::Plain;
    };
    let mut result = Mark::Plain;
    // The first item is the predicate.
    for item in items.iter().skip(1) {
        match meta_mark(item) {
            Mark::Test => return Mark::Test,
            Mark::LooksLikeTest(path) => result = Mark::LooksLikeTest(path),
            Mark::Plain => {}
        }
    }
    result
}

/// Whether the fn returns a value for `test_case` to compare rather than the test's outcome:
/// it has `test_case` attributes and every one says `=> expected`. The harness never sees
/// such a value, so it need not be a `Result` or `impl Termination`.
pub(crate) fn returns_compared_value(attrs: &[Attr]) -> bool {
    let mut cases = Vec::new();
    for attr in attrs {
        if let Some(meta) = attr.meta() {
            test_case_lists(&meta, &mut cases);
        }
    }
    !cases.is_empty() && cases.iter().all(has_arrow)
}

/// The argument tokens of each `test_case` attribute in `meta`, looking inside `cfg_attr`.
fn test_case_lists(meta: &Meta, into: &mut Vec<TokenStream>) {
    let Meta::List(list) = meta else { return };
    if list.path.is_ident("cfg_attr") {
        if let Ok(items) = crate::meta::parse_list(list.tokens.clone()) {
            // The first item is the predicate.
            for item in items.iter().skip(1) {
                test_case_lists(item, into);
            }
        }
        return;
    }
    let segments = &list.path.segments;
    let in_test_case = segments.len() == 1 || segments[0] == "test_case";
    let is_case = segments.last().is_some_and(|last| {
        last == "test_case" || last == "test_matrix" || (last == "case" && segments.len() == 2)
    });
    if in_test_case && is_case {
        into.push(list.tokens.clone());
    }
}

/// A `=>` outside any brackets: `test_case`'s expected-value separator.
fn has_arrow(tokens: &TokenStream) -> bool {
    let mut previous_eq = false;
    for token in tokens.clone() {
        match token {
            proc_macro2::TokenTree::Punct(punct) => {
                if previous_eq && punct.as_char() == '>' {
                    return true;
                }
                previous_eq =
                    punct.as_char() == '=' && punct.spacing() == proc_macro2::Spacing::Joint;
            }
            _ => previous_eq = false,
        }
    }
    false
}

/// Whether an attribute is `#[isolated(..)]` or `#[isolate::isolated(..)]`.
pub(crate) fn is_isolated(attr: &Attr) -> bool {
    attr.path().is_some_and(|path| {
        path.segments
            .last()
            .is_some_and(|segment| segment == "isolated")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Cursor;
    use quote::quote;

    fn attr(tokens: TokenStream) -> Attr {
        Cursor::new(tokens).attrs(false).remove(0)
    }

    fn is_test(attr: Attr) -> bool {
        matches!(mark(&[attr]), Mark::Test)
    }

    /// Issue 15 item 9: every family users have counts as a test.
    #[test]
    fn recognises_the_families() {
        let attrs: Vec<Attr> = vec![
            attr(quote!(#[test])),
            attr(quote!(#[::core::prelude::v1::test])),
            attr(quote!(#[tokio::test(flavor = "multi_thread")])),
            attr(quote!(#[async_std::test])),
            attr(quote!(#[actix_rt::test])),
            attr(quote!(#[actix_web::test])),
            attr(quote!(#[sqlx::test(migrations = false)])),
            attr(quote!(#[test_log::test])),
            attr(quote!(#[rstest])),
            attr(quote!(#[rstest::rstest])),
            attr(quote!(#[test_case(1 ; "one")])),
            attr(quote!(#[test_case::test_case(1)])),
            attr(quote!(#[test_case::test_matrix([1, 2])])),
            attr(quote!(#[test_matrix([1, 2], [3])])),
            attr(quote!(#[test_case::case(1)])),
            attr(quote!(#[cfg_attr(test, test)])),
            attr(quote!(#[cfg_attr(all(unix, test), tokio::test)])),
            attr(quote!(#[cfg_attr(test, allow(dead_code), test_case::test_matrix([1]))])),
        ];
        for attr in attrs {
            let text = attr.to_token_stream().to_string();
            assert!(is_test(attr), "{text}");
        }
    }

    #[test]
    fn plain_and_look_alike_functions() {
        let plain: Vec<Attr> = vec![
            attr(quote!(#[cfg(test)])),
            attr(quote!(#[allow(dead_code)])),
            attr(quote!(#[case(1)])),
            attr(quote!(#[cfg_attr(test, allow(dead_code))])),
        ];
        assert!(matches!(mark(&plain), Mark::Plain));
        let looks: Attr = attr(quote!(#[my_crate::integration_test]));
        assert!(matches!(mark(&[looks]), Mark::LooksLikeTest(_)));
        let wrapped: Attr = attr(quote!(#[cfg_attr(test, my_test)]));
        assert!(matches!(mark(&[wrapped]), Mark::LooksLikeTest(_)));
    }

    #[test]
    fn a_value_test_case_compares_is_not_an_outcome() {
        let compared = |attrs: Vec<TokenStream>| {
            let attrs: Vec<Attr> = attrs.into_iter().map(attr).collect();
            returns_compared_value(&attrs)
        };
        assert!(compared(vec![
            quote!(#[test_case(2 => 4)]),
            quote!(#[test_case::test_case(3 => matches Some(_) ; "three")]),
            quote!(#[cfg_attr(test, test_case::test_matrix([1, 2] => is count 1))]),
            quote!(#[test_case::case(1 => ignore)]),
        ]));
        // A case without `=>` returns its value to the harness: an outcome.
        assert!(!compared(vec![
            quote!(#[test_case(2 => 4)]),
            quote!(#[test_case(3)])
        ]));
        // `=>` only inside brackets, rstest's `#[case]`, no test_case at all.
        assert!(!compared(vec![quote!(#[test_case(match 1 { _ => 2 })])]));
        assert!(!compared(vec![quote!(#[rstest]), quote!(#[case(1 => 2)])]));
        assert!(!compared(vec![quote!(#[test])]));
    }
}
