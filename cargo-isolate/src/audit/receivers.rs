//! The methods a fn body calls (`server.start()`), each with its receiver's type as far as the
//! body writes it: `self`, a local bound to a constructor's result (`let s = Type::new()`), a
//! struct literal or a type annotation. Anything else is unknown: no type is inferred.

use super::detect::peel;
use super::index::{last_segment, macro_exprs};
use proc_macro2::Span;
use std::collections::BTreeMap;
use syn::visit::Visit;

/// What a method call's receiver is, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Receiver {
    /// `self`: the type of the impl the caller is in.
    This,
    /// A type written at the binding: `let s: Server = ..`, `Server { .. }`.
    Type(String),
    /// The result of an associated fn: `Server::new()`, `let s = Server::spawn(..)?`. It is of
    /// that type only if the fn returns `Self`, which the caller checks.
    MadeBy { ty: String, ctor: String },
    /// Nothing written says.
    Unknown,
}

/// One method call.
pub(crate) struct MethodSite {
    pub(crate) receiver: Receiver,
    pub(crate) method: String,
    /// The method's name in the call.
    pub(crate) at: Span,
}

/// The method calls of `block`, macro bodies included, in source order.
pub(crate) fn method_sites(block: &syn::Block) -> Vec<MethodSite> {
    let mut visitor = Sites::default();
    visitor.visit_block(block);
    visitor.sites
}

#[derive(Default)]
struct Sites {
    /// What each local was bound to; a name bound twice to different things is unknown.
    locals: BTreeMap<String, Receiver>,
    sites: Vec<MethodSite>,
}

impl Sites {
    fn receiver(&self, expr: &syn::Expr) -> Receiver {
        match peel(expr) {
            syn::Expr::Path(path) if path.path.is_ident("self") => Receiver::This,
            syn::Expr::Path(path) => path
                .path
                .get_ident()
                .and_then(|name| self.locals.get(&name.to_string()))
                .cloned()
                .unwrap_or(Receiver::Unknown),
            syn::Expr::Struct(lit) => Receiver::Type(last_segment(&lit.path)),
            syn::Expr::Call(call) => {
                let syn::Expr::Path(func) = &*call.func else {
                    return Receiver::Unknown;
                };
                let segments: Vec<String> = func
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                match segments.as_slice() {
                    // A method on an `Arc<Server>` is the server's.
                    [.., wrapper, new]
                        if new == "new" && matches!(wrapper.as_str(), "Arc" | "Rc" | "Box") =>
                    {
                        call.args
                            .first()
                            .map_or(Receiver::Unknown, |arg| self.receiver(arg))
                    }
                    [.., ty, ctor] => Receiver::MadeBy {
                        ty: ty.clone(),
                        ctor: ctor.clone(),
                    },
                    _ => Receiver::Unknown,
                }
            }
            _ => Receiver::Unknown,
        }
    }

    fn bind(&mut self, name: String, receiver: Receiver) {
        let known = match self.locals.get(&name) {
            Some(before) if *before != receiver => Receiver::Unknown,
            _ => receiver,
        };
        self.locals.insert(name, known);
    }
}

impl<'ast> Visit<'ast> for Sites {
    fn visit_local(&mut self, local: &'ast syn::Local) {
        // The initialiser first: it is evaluated before the name exists.
        if let Some(init) = &local.init {
            self.visit_expr(&init.expr);
            if let Some((_, diverge)) = &init.diverge {
                self.visit_expr(diverge);
            }
        }
        let (pat, written) = match &local.pat {
            syn::Pat::Type(typed) => (&*typed.pat, type_name(&typed.ty)),
            pat => (pat, None),
        };
        if let syn::Pat::Ident(ident) = pat {
            let receiver = written
                .map(Receiver::Type)
                .or_else(|| local.init.as_ref().map(|init| self.receiver(&init.expr)))
                .unwrap_or(Receiver::Unknown);
            self.bind(ident.ident.to_string(), receiver);
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        syn::visit::visit_expr_method_call(self, call);
        self.sites.push(MethodSite {
            receiver: self.receiver(&call.receiver),
            method: call.method.to_string(),
            at: call.method.span(),
        });
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for expr in macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }

    // A nested fn's calls are its own.
    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {}
}

/// `Server` of the type `Server`, `common::Server` or `Server<T>`; `None` for references,
/// tuples and the like.
pub(crate) fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Path(path) => Some(last_segment(&path.path)),
        syn::Type::Paren(inner) => type_name(&inner.elem),
        syn::Type::Group(inner) => type_name(&inner.elem),
        _ => None,
    }
}
