//! The shapes real suites write, each of which must expand without an error into valid Rust
//! in which every test it names got a guard. The corpus the token parser was checked against
//! (differentially, against the syn 3 parser it replaced); kept so a parser change that stops
//! recognising one of them fails here rather than leaving a test unisolated.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::quote;

/// Expands `item` under `args` (with and without the `serial_test` bridge) and checks it.
fn expands(args: &TokenStream, item: &TokenStream, tests: &[&str]) {
    for bridge in [false, true] {
        let expanded = crate::pipeline(args.clone(), item.clone(), bridge);
        let text = expanded.to_string();
        assert!(
            !text.contains("compile_error"),
            "{item}\nexpanded to an error: {text}"
        );
        syn::parse2::<syn::File>(expanded).unwrap_or_else(|e| panic!("{item}\n{e}: {text}"));
        let guarded: Vec<&str> = text
            .split("for_test (:: core :: module_path ! () , \"")
            .skip(1)
            .map(|rest| rest.split('"').next().unwrap())
            .collect();
        assert_eq!(guarded, tests, "{item}");
    }
}

/// `tokens` in an invisible group, as a `macro_rules!` fragment arrives.
fn fragment(tokens: TokenStream) -> TokenTree {
    TokenTree::Group(Group::new(Delimiter::None, tokens))
}

#[test]
fn signatures() {
    let cases = [
        quote!(
            #[test]
            fn a<T: Into<Vec<Vec<u8>>>, F: Fn(u8) -> Option<Vec<u8>>>(t: T, f: F)
            where
                for<'a> F: Fn(&'a u8) -> Box<dyn Fn() -> Vec<Vec<u8>>>,
            {
            }
        ),
        quote!(
            #[test]
            fn a<'a, 'b: 'a, const N: usize, T: ?Sized + 'a>(
                x: &'a [u8; N],
            ) -> impl Iterator<Item = &'a u8> + 'a
            where
                [u8; N]: Sized,
            {
                x.iter()
            }
        ),
        quote!(
            #[test]
            fn a() -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
                Ok(())
            }
        ),
        quote!(
            #[test]
            fn a() -> Box<dyn Fn() -> u8> {
                Box::new(|| 1)
            }
        ),
        quote!(
            #[test]
            fn a() -> <Vec<u8> as IntoIterator>::IntoIter {
                vec![].into_iter()
            }
        ),
        quote!(
            #[test]
            fn a<const N: usize>() -> [u8; { 1 + 2 }]
            where
                Foo<{ N }>: Sized,
            {
                [0; 3]
            }
        ),
        quote!(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a() -> anyhow::Result<()> {
                Ok(())
            }
        ),
        quote!(
            #[test]
            pub(crate) unsafe extern "C" fn a() {}
        ),
        quote!(
            #[test]
            pub(in crate::x) fn a() {}
        ),
        quote!(
            #[test]
            fn a(
                #[cfg(unix)] x: u8,
                (a, b): (u8, u8),
                Point { x: ref mut y, .. }: Point,
                mut m: u8,
                _: u8,
                &v: &u8,
                [p, q]: [u8; 2],
                r#type: u8,
            ) {
            }
        ),
        quote!(
            #[test]
            fn a(f: &dyn Fn(u8) -> u8, g: impl for<'x> Fn(&'x u8) -> &'x u8, h: fn() -> u8) {}
        ),
    ];
    for item in cases {
        expands(&quote!(port, tmpdir), &item, &["a"]);
    }
}

#[test]
fn test_attributes_and_bodies() {
    let cases = [
        quote!(
            /// Doc.
            #[cfg_attr(all(unix, not(miri)), should_panic(expected = "a, b => c"))]
            #[test]
            #[ignore = "slow, really"]
            fn a() {
                panic!("a, b => c")
            }
        ),
        quote!(
            #[rstest]
            #[case(1, 2)]
            #[case::named(3, 4)]
            fn a(#[case] x: u8, #[case] y: u8, #[values(1, 2)] z: u8, db: Db) {}
        ),
        quote!(
            #[test_case(1, 2 => 3 ; "adds, with comma")]
            #[test_case(|x: u8| x > 0, 2 => matches Ok(_))]
            fn a(x: u8, y: u8) -> u8 {
                3
            }
        ),
        quote!(
            #[test]
            fn a() {
                #![allow(unused)]
                let v = vec![1, 2]
                    .into_iter()
                    .filter(|x| *x > 0)
                    .collect::<Vec<_>>();
                'outer: for i in 0..3 {
                    loop {
                        break 'outer;
                    }
                }
                let c = |x: u8| -> u8 { x >> 1 };
                macro_rules! m {
                    ($e:expr) => {
                        $e
                    };
                }
                fn helper<T: Fn() -> u8>(t: T) -> u8 {
                    t()
                }
                assert!(c(2) == 1, "{} > {}", 1, 0)
            }
        ),
    ];
    for item in cases {
        expands(&quote!(port), &item, &["a"]);
    }
}

#[test]
fn arguments() {
    let item = quote!(
        #[test]
        fn a() {}
    );
    let cases = [
        quote!(port(x, y,), tmpdir(d), reserved_port, udp),
        quote!(serial = "g", shared = ["a", "b",]),
        quote!(shared = "c", serial = "d"),
        quote!(max_sockets = 64, timeout = "1m30s"),
        quote!(timeout = r"90s"),
        quote!(env, cwd(read)),
        quote!(env(read), fresh_process),
        quote!(fixture(db = DB, cache = crate::fixtures::CACHE)),
        quote!(),
    ];
    for args in cases {
        expands(&args, &item, &["a"]);
    }
}

#[test]
fn modules() {
    expands(
        &quote!(serial = "db"),
        &quote!(
            mod suite {
                //! Inner doc.
                #![allow(unused)]
                use super::*;
                use std::{
                    collections::{HashMap, HashSet as Set},
                    io::{self, Read as _},
                };
                extern crate alloc;
                const N: usize = 3;
                const F: fn(u8) -> bool = |x| x > 0;
                static S: std::sync::Mutex<u8> = std::sync::Mutex::new(0);
                struct Foo<T>
                where
                    T: Clone,
                {
                    t: Vec<Vec<T>>,
                }
                impl<T: Fn() -> u8> Tr for Vec<Vec<T>> {
                    fn f(&self) -> Box<dyn Fn() -> u8> {
                        Box::new(|| 1)
                    }
                }
                type Alias<T> = Vec<Vec<T>>;
                macro_rules! gen {
                    ($n:ident) => {
                        #[test]
                        fn $n() {}
                    };
                }
                gen!(from_macro);
                lazy_static::lazy_static! { static ref X: u8 = 1; }
                extern "C" {
                    fn ext();
                }
                #[test]
                fn plain() {}
                fn helper() -> Result<(), Box<dyn std::error::Error>> {
                    Ok(())
                }
                #[tokio::test(flavor = "multi_thread")]
                async fn tokio() {}
                #[rstest]
                #[case(1)]
                fn rs(#[case] n: u8) {}
                #[test_case(|x| x > 0, 2 => 3 ; "closure")]
                fn tc(a: u8, b: u8) -> u8 {
                    a + b
                }
                #[isolated(port)]
                #[test]
                fn own() {}
                #[cfg_attr(not(miri), test)]
                fn wrapped() {}
                pub(crate) mod nested {
                    use super::*;
                    #[test]
                    pub(crate) fn deep() {}
                }
            }
        ),
        &["plain", "tokio", "rs", "tc", "own", "wrapped", "deep"],
    );
}

/// Fragments of `macro_rules!` arrive in invisible groups.
#[test]
fn macro_fragments() {
    let meta = fragment(quote!(tokio::test));
    let vis = fragment(quote!(pub(crate)));
    let ret = fragment(quote!(Result<(), String>));
    let body = fragment(quote!({ Ok(()) }));
    expands(
        &quote!(tmpdir),
        &quote!(#[#meta] #vis async fn a() -> #ret #body),
        &["a"],
    );
    let group = fragment(quote!("g"));
    let count = fragment(quote!(64));
    expands(
        &quote!(serial = #group, max_sockets = #count),
        &quote!(
            #[test]
            fn a() {}
        ),
        &["a"],
    );
    let first = fragment(quote!(
        #[test]
        fn a() {}
    ));
    let second = fragment(quote!(
        #[test]
        fn b() {}
    ));
    let helper = fragment(quote!(
        fn helper() {}
    ));
    expands(
        &quote!(port),
        &quote!(mod m { #first #[#meta] async fn c() {} #helper #second }),
        &["a", "c", "b"],
    );
}
