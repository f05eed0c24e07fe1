//! Arguments + item -> tokens. The only file that uses `quote!`; it never fails, because
//! everything that could fail was rejected before.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{ReturnType, Type};

use crate::args::{Args, Kind};
use crate::errors::Errors;
use crate::item::{self, Item, TestFn};
use crate::paths::private;
use crate::validate;

/// The attribute's whole pipeline: parse, validate, expand; on error, our errors plus the item
/// with the attribute removed, its bindings declared so the body adds no errors of its own.
pub(crate) fn isolated(args: TokenStream, tokens: TokenStream) -> TokenStream {
    let cx = Errors::default();
    let args = Args::parse(&cx, args);
    validate::check_args(&cx, &args);
    let output = match item::parse(&cx, tokens.clone()) {
        Some(Item::Fn(func)) => {
            validate::check_fn(&cx, &args, &func);
            let real = cx.is_empty();
            expand_fn(&args, func, real)
        }
        Some(Item::Mod(module)) if module.content.is_some() => {
            let expanded = expand_module(&cx, &args, module, true);
            match syn::parse2::<syn::ItemMod>(tokens) {
                Ok(module) if !cx.is_empty() => {
                    expand_module(&Errors::default(), &args, module, false)
                }
                _ => expanded,
            }
        }
        // A file module or an item that is no fn: our error beside the untouched item.
        Some(Item::Mod(_)) | None => tokens,
    };
    match cx.finish() {
        Ok(()) => output,
        Err(error) => {
            let errors = error.into_compile_error();
            quote!(#errors #output)
        }
    }
}

/// Rewrites every test in `module` (and in nested inline modules), combining `outer` with each
/// item's own `#[isolated]`. With `real == false` it emits the fallback shape.
fn expand_module(cx: &Errors, outer: &Args, mut module: syn::ItemMod, real: bool) -> TokenStream {
    if let Some((_, items)) = &mut module.content {
        let mut consumed: Vec<syn::Path> = Vec::new();
        for item in items.iter_mut() {
            match item {
                syn::Item::Fn(func) => {
                    let own = take_own_args(cx, &mut func.attrs, &mut consumed);
                    let is_test = func.attrs.iter().any(item::is_test_attribute);
                    if own.is_none() && !is_test {
                        continue;
                    }
                    let args =
                        own.map_or_else(|| outer.clone(), |own| validate::merge(cx, outer, &own));
                    let tokens = quote!(#func);
                    // Re-parse so the body stays an unparsed group, exactly as for a single fn.
                    if let Ok(func) = syn::parse2::<TestFn>(tokens) {
                        validate::check_fn(cx, &args, &func);
                        *item = syn::Item::Verbatim(expand_fn(&args, func, real));
                    }
                }
                syn::Item::Mod(nested) if nested.content.is_some() => {
                    let own = take_own_args(cx, &mut nested.attrs, &mut consumed);
                    let args =
                        own.map_or_else(|| outer.clone(), |own| validate::merge(cx, outer, &own));
                    let syn::Item::Mod(nested) =
                        std::mem::replace(item, syn::Item::Verbatim(TokenStream::new()))
                    else {
                        unreachable!("matched as a module above")
                    };
                    *item = syn::Item::Verbatim(expand_module(cx, &args, nested, real));
                }
                _ => {}
            }
        }
        // The attributes we consumed no longer name `isolated`; name each path once more, so
        // the user's `use isolate::isolated;` in this module is not reported unused.
        consumed.dedup_by_key(|path| quote!(#path).to_string());
        for path in consumed {
            items.push(syn::Item::Verbatim(
                quote!(#[allow(unused_imports)] use #path as _;),
            ));
        }
    }
    quote!(#module)
}

/// Removes the item's own `#[isolated(..)]` attributes, remembering their paths, and parses
/// their arguments.
fn take_own_args(
    cx: &Errors,
    attrs: &mut Vec<syn::Attribute>,
    consumed: &mut Vec<syn::Path>,
) -> Option<Args> {
    let mut own: Option<Args> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        if !item::is_isolated_attribute(&attr) {
            kept.push(attr);
            continue;
        }
        let tokens = match &attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        if let Ok(path) = syn::parse2::<syn::Path>(attr.path().to_token_stream()) {
            consumed.push(path);
        }
        let args = Args::parse(cx, tokens);
        validate::check_args(cx, &args);
        own = Some(match own {
            Some(earlier) => validate::merge(cx, &earlier, &args),
            None => args,
        });
    }
    *attrs = kept;
    own
}

/// One test fn: the guard, the bindings, then the body verbatim.
fn expand_fn(args: &Args, func: TestFn, real: bool) -> TokenStream {
    if !real {
        return fallback_fn(args, func);
    }
    let private = private();
    let spec = spec(args, &func);
    let TestFn {
        attrs,
        vis,
        sig,
        body,
    } = &func;
    let guard = Ident::new("__isolate_guard", Span::mixed_site());
    let mut counts = [0usize; Kind::ALL.len()];
    let lets: Vec<TokenStream> = args
        .bindings
        .iter()
        .map(|binding| {
            let slot = Kind::ALL
                .iter()
                .position(|kind| *kind == binding.kind)
                .unwrap_or(0);
            let index = Literal::usize_unsuffixed(counts[slot]);
            counts[slot] += 1;
            let ident = &binding.ident;
            let ty = binding_type(binding.kind);
            let resource = resource_variant(binding.kind);
            quote!(#[allow(unused_variables)] let #ident = #private::take::<#private::#ty>(&mut #guard, #private::Resource::#resource, #index);)
        })
        .collect();
    let mutability = (!args.bindings.is_empty()).then(|| quote!(mut));
    let tail = match observed_return_type(args, &sig.output) {
        Some(_) if sig.asyncness.is_some() => quote!(#guard.finish(async move #body.await)),
        Some(ty) => quote!(#guard.finish((move || -> #ty #body)())),
        None => quote!(#body),
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            let #mutability #guard = {
                static SPEC: #private::Spec = #spec;
                #private::enter(&SPEC)
            };
            #(#lets)*
            #tail
        }
    }
}

/// The fn as written, with each binding declared as a placeholder so the body adds no errors
/// of its own beside ours. No const-context errors about the placeholders, and no placeholder
/// shadowing a parameter of the same name.
fn fallback_fn(args: &Args, mut func: TestFn) -> TokenStream {
    let private = private();
    func.sig.constness = None;
    let parameters: Vec<String> = func.parameter_names().map(ToString::to_string).collect();
    let lets = args
        .bindings
        .iter()
        .filter(|b| !parameters.contains(&b.ident.to_string()))
        .map(|binding| {
            let ident = &binding.ident;
            let ty = binding_type(binding.kind);
            quote!(#[allow(unused_variables)] let #ident: #private::#ty = #private::unavailable();)
        });
    let TestFn {
        attrs,
        vis,
        sig,
        body,
    } = &func;
    quote!(#(#attrs)* #vis #sig { #(#lets)* #body })
}

/// The return type whose value must be seen to keep temp dirs of a test that returns `Err`:
/// only when there are temp dirs and the fn returns something that can fail.
fn observed_return_type<'a>(args: &Args, output: &'a ReturnType) -> Option<&'a Type> {
    if !args
        .bindings
        .iter()
        .any(|binding| binding.kind == Kind::TmpDir)
    {
        return None;
    }
    match output {
        ReturnType::Type(_, ty) => match &**ty {
            Type::Tuple(tuple) if tuple.elems.is_empty() => None,
            // A closure cannot be annotated with `impl Trait`; such a test's `Err` goes unseen.
            Type::ImplTrait(_) => None,
            ty => Some(ty),
        },
        ReturnType::Default => None,
    }
}

fn binding_type(kind: Kind) -> Ident {
    let name = match kind {
        Kind::Port | Kind::Port6 => "Port",
        Kind::Udp | Kind::Udp6 => "UdpPort",
        Kind::ReservedPort => "ReservedPort",
        Kind::TmpDir => "TmpDir",
    };
    Ident::new(name, Span::call_site())
}

fn resource_variant(kind: Kind) -> Ident {
    let name = match kind {
        Kind::Port => "Port",
        Kind::Port6 => "Port6",
        Kind::Udp => "Udp",
        Kind::Udp6 => "Udp6",
        Kind::ReservedPort => "ReservedPort",
        Kind::TmpDir => "TmpDir",
    };
    Ident::new(name, Span::call_site())
}

/// The static `Spec` describing what the test asked for, built with the runtime's builders.
fn spec(args: &Args, func: &TestFn) -> TokenStream {
    let private = private();
    let binds = Kind::ALL.iter().filter_map(|&kind| {
        let names: Vec<String> = args
            .bindings
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| b.ident.to_string())
            .collect();
        let resource = resource_variant(kind);
        (!names.is_empty()).then(|| quote!(.bind(#private::Resource::#resource, &[#(#names),*])))
    });
    let serial = args.serial.iter().map(|group| &group.name);
    let serial = (!args.serial.is_empty()).then(|| quote!(.serial(&[#(#serial),*])));
    let shared = args.shared.iter().map(|group| &group.name);
    let shared = (!args.shared.is_empty()).then(|| quote!(.shared(&[#(#shared),*])));
    let max_sockets = args.max_sockets.map(|(n, _)| {
        let n = Literal::u32_unsuffixed(n);
        quote!(.max_sockets(#n))
    });
    let timeout = args.timeout.map(|(ms, _)| {
        let ms = Literal::u64_unsuffixed(ms);
        quote!(.timeout(::core::time::Duration::from_millis(#ms)))
    });
    let test = func.sig.ident.to_string();
    let expects_panic = func.expects_panic().then(|| quote!(.expects_panic()));
    quote! {
        #private::Spec::for_test(::core::module_path!(), #test)
            #(#binds)* #serial #shared #max_sockets #timeout #expects_panic
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use quote::quote;

    use super::TokenStream;

    /// Expands `args` on `item` and compares the formatted code with
    /// `tests/snapshots/<name>.expanded.rs`; `UPDATE_EXPECT=1` rewrites the file.
    fn snapshot(name: &str, args: TokenStream, item: TokenStream) {
        let expanded = super::isolated(args, item);
        let file = syn::parse2::<syn::File>(expanded).expect("the expansion parses as a file");
        let actual = prettyplease::unparse(&file);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/snapshots/{name}.expanded.rs"));
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            std::fs::write(&path, &actual).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            actual, expected,
            "expansion of `{name}` changed; rerun with UPDATE_EXPECT=1 and review the diff"
        );
    }

    #[test]
    fn plain_sync_test() {
        snapshot(
            "sync",
            quote!(port, serial = "ws"),
            quote!(
                #[test]
                fn reconnects() {
                    assert!(true);
                }
            ),
        );
    }

    #[test]
    fn result_with_tmpdir_is_observed() {
        snapshot(
            "result-tmpdir",
            quote!(tmpdir(data, logs)),
            quote!(
                #[test]
                fn writes() -> std::io::Result<()> {
                    std::fs::write(data.join("x"), "y")?;
                    Ok(())
                }
            ),
        );
    }

    #[test]
    fn async_fn() {
        snapshot(
            "async",
            quote!(port, tmpdir, timeout = "1m30s"),
            quote!(
                #[tokio::test]
                async fn serves() -> Result<(), String> {
                    Ok(())
                }
            ),
        );
    }

    #[test]
    fn every_resource() {
        snapshot(
            "everything",
            quote!(
                port,
                port6(v6),
                udp,
                udp6(u6),
                reserved_port,
                tmpdir,
                serial = ["ws", "db"],
                shared = "cache",
                max_sockets = 64,
                timeout = "30s"
            ),
            quote!(
                #[test]
                #[should_panic]
                pub fn everything() {}
            ),
        );
    }

    #[test]
    fn inline_module() {
        snapshot(
            "module",
            quote!(serial = "db"),
            quote!(
                mod tests {
                    use isolate::isolated;
                    fn helper() {}
                    #[test]
                    fn plain() {}
                    #[test]
                    #[isolated(port)]
                    fn own() {}
                    mod nested {
                        #[test]
                        fn deep() {}
                    }
                }
            ),
        );
    }

    #[test]
    fn fallback_on_error() {
        snapshot(
            "fallback",
            quote!(port, max_sockets = 0),
            quote!(
                #[test]
                fn broken() {
                    let _ = port;
                }
            ),
        );
    }
}
