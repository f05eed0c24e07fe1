//! Arguments + item -> tokens. The only file that uses `quote!`; it never fails, because
//! everything that could fail was rejected before.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};
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
            expand_fn(&args, &func, cx.is_empty())
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
        for item in items.iter_mut() {
            match item {
                syn::Item::Fn(func) => {
                    let own = take_own_args(cx, &mut func.attrs);
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
                        *item = syn::Item::Verbatim(expand_fn(&args, &func, real));
                    }
                }
                syn::Item::Mod(nested) if nested.content.is_some() => {
                    let own = take_own_args(cx, &mut nested.attrs);
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
    }
    quote!(#module)
}

/// Removes the item's own `#[isolated(..)]` attributes and parses their arguments.
fn take_own_args(cx: &Errors, attrs: &mut Vec<syn::Attribute>) -> Option<Args> {
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
fn expand_fn(args: &Args, func: &TestFn, real: bool) -> TokenStream {
    let TestFn {
        attrs,
        vis,
        sig,
        body,
    } = func;
    let private = private();
    if !real {
        let lets = args.bindings.iter().map(|binding| {
            let ident = &binding.ident;
            let ty = binding_type(binding.kind);
            quote!(#[allow(unused_variables)] let #ident: #private::#ty = #private::unavailable();)
        });
        return quote!(#(#attrs)* #vis #sig { #(#lets)* #body });
    }

    let guard = Ident::new("__isolate_guard", Span::mixed_site());
    let spec = spec(args, func);
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
            let accessor = format_ident!("{}", binding.kind.key());
            quote!(#[allow(unused_variables)] let #ident = #guard.#accessor(#index);)
        })
        .collect();
    let takes_by_value = args
        .bindings
        .iter()
        .any(|binding| binding.kind != Kind::TmpDir);
    let mutability = takes_by_value.then(|| quote!(mut));
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

/// The static `Spec` literal describing what the test asked for.
fn spec(args: &Args, func: &TestFn) -> TokenStream {
    let private = private();
    let names = |kind: Kind| {
        let names = args
            .bindings
            .iter()
            .filter(|b| b.kind == kind)
            .map(|b| b.ident.to_string());
        quote!(&[#(#names),*])
    };
    let (ports, ports6, udp, udp6, reserved_ports, tmpdirs) = (
        names(Kind::Port),
        names(Kind::Port6),
        names(Kind::Udp),
        names(Kind::Udp6),
        names(Kind::ReservedPort),
        names(Kind::TmpDir),
    );
    let serial = args.serial.iter().map(|group| &group.name);
    let shared = args.shared.iter().map(|group| &group.name);
    let max_sockets = Literal::u32_unsuffixed(args.max_sockets.map_or(0, |(n, _)| n));
    let timeout = args.timeout.map_or_else(
        || quote!(::core::option::Option::None),
        |(ms, _)| {
            let ms = Literal::u64_unsuffixed(ms);
            quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#ms)))
        },
    );
    let test = func.sig.ident.to_string();
    let expects_panic = func.expects_panic();
    quote! {
        #private::Spec {
            test: ::core::concat!(::core::module_path!(), "::", #test),
            ports: #ports,
            ports6: #ports6,
            udp: #udp,
            udp6: #udp6,
            reserved_ports: #reserved_ports,
            tmpdirs: #tmpdirs,
            serial: &[#(#serial),*],
            shared: &[#(#shared),*],
            max_sockets: #max_sockets,
            timeout: #timeout,
            expects_panic: #expects_panic,
        }
    }
}
