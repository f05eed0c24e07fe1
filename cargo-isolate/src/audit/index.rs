//! What one file declares that the detectors need: its fns (tests or helpers, their
//! `#[isolated(...)]` arguments, what they call), its port constants and its lock statics.

use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

/// One fn of the file (free, nested in a module, or in an impl).
pub(crate) struct FnInfo<'ast> {
    pub(crate) name: String,
    pub(crate) attrs: &'ast [syn::Attribute],
    pub(crate) block: &'ast syn::Block,
    /// A test fn (`#[test]`, `#[tokio::test]`, `#[rstest]`, ...).
    pub(crate) is_test: bool,
    /// Test code: a test, anything in a `#[cfg(test)]` module, or any fn of a file under `tests/`.
    pub(crate) in_scope: bool,
    /// The top-level argument names of `#[isolated(...)]`, when the fn has it.
    pub(crate) isolated: Option<BTreeSet<String>>,
    /// The names of the fns it calls (last path segment).
    pub(crate) calls: BTreeSet<String>,
}

/// The file's fns and the items detectors look up by name.
#[derive(Default)]
pub(crate) struct Index<'ast> {
    pub(crate) fns: Vec<FnInfo<'ast>>,
    /// `const` items that hold a port number (`const PORT: u16 = 8080`).
    pub(crate) port_consts: BTreeSet<String>,
    /// `static` items holding a `Mutex` or `RwLock`.
    pub(crate) lock_statics: BTreeSet<String>,
    /// Parameter names of the file's fns, by fn name.
    pub(crate) params: BTreeMap<String, Vec<String>>,
}

impl<'ast> Index<'ast> {
    /// Indexes `file`; `all_test_code` for files under `tests/`.
    pub(crate) fn new(file: &'ast syn::File, all_test_code: bool) -> Self {
        let mut builder = Builder {
            index: Index::default(),
            in_test_mod: all_test_code,
        };
        builder.visit_file(file);
        builder.index
    }

    /// The test fns from which `name` is reached through the file's calls (itself if a test).
    pub(crate) fn tests_reaching(&self, name: &str) -> Vec<&FnInfo<'ast>> {
        self.fns
            .iter()
            .filter(|f| f.is_test && self.reaches(f, name))
            .collect()
    }

    fn reaches(&self, from: &FnInfo<'ast>, target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.name.as_str()];
        while let Some(name) = stack.pop() {
            if name == target {
                return true;
            }
            if !seen.insert(name) {
                continue;
            }
            for f in self.fns.iter().filter(|f| f.name == name) {
                stack.extend(f.calls.iter().map(String::as_str));
            }
        }
        false
    }
}

struct Builder<'ast> {
    index: Index<'ast>,
    in_test_mod: bool,
}

impl<'ast> Builder<'ast> {
    fn add_fn(
        &mut self,
        name: String,
        attrs: &'ast [syn::Attribute],
        sig: &syn::Signature,
        block: &'ast syn::Block,
    ) {
        let is_test = attrs.iter().any(is_test_attr);
        let isolated = attrs
            .iter()
            .find(|a| last_segment(a.path()) == "isolated")
            .map(isolated_args);
        let mut calls = Calls::default();
        calls.visit_block(block);
        let params = sig
            .inputs
            .iter()
            .map(|input| match input {
                syn::FnArg::Typed(typed) => match &*typed.pat {
                    syn::Pat::Ident(ident) => ident.ident.to_string(),
                    _ => String::new(),
                },
                syn::FnArg::Receiver(_) => "self".to_owned(),
            })
            .collect();
        self.index.params.insert(name.clone(), params);
        self.index.fns.push(FnInfo {
            name,
            attrs,
            block,
            is_test,
            in_scope: is_test || self.in_test_mod,
            isolated,
            calls: calls.0,
        });
    }
}

impl<'ast> Visit<'ast> for Builder<'ast> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.add_fn(
            item.sig.ident.to_string(),
            &item.attrs,
            &item.sig,
            &item.block,
        );
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add_fn(
            item.sig.ident.to_string(),
            &item.attrs,
            &item.sig,
            &item.block,
        );
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let outer = self.in_test_mod;
        self.in_test_mod |= item.attrs.iter().any(is_cfg_test);
        syn::visit::visit_item_mod(self, item);
        self.in_test_mod = outer;
    }

    fn visit_item_const(&mut self, item: &'ast syn::ItemConst) {
        let name = item.ident.to_string();
        let is_u16 = matches!(&*item.ty, syn::Type::Path(p) if p.path.is_ident("u16"));
        let number = match &*item.expr {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(int),
                ..
            }) => int.base10_parse::<u16>().ok(),
            _ => None,
        };
        if number.is_some_and(|n| n > 0) && (is_u16 || name.to_ascii_uppercase().contains("PORT")) {
            self.index.port_consts.insert(name);
        }
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let ty = quote_type(&item.ty);
        if ty.contains("Mutex") || ty.contains("RwLock") {
            self.index.lock_statics.insert(item.ident.to_string());
        }
    }
}

/// The called fns' names, macro bodies included.
#[derive(Default)]
struct Calls(BTreeSet<String>);

impl<'ast> Visit<'ast> for Calls {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            self.0.insert(last_segment(&path.path));
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for expr in macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }
}

/// A macro's body read as comma-separated expressions (`assert_eq!`, `format!`, `vec!`, ...);
/// empty when it is something else.
pub(crate) fn macro_exprs(mac: &syn::Macro) -> Vec<syn::Expr> {
    mac.parse_body_with(syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated)
        .map(|exprs| exprs.into_iter().collect())
        .unwrap_or_default()
}

pub(crate) fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

fn quote_type(ty: &syn::Type) -> String {
    quote::ToTokens::to_token_stream(ty).to_string()
}

fn is_test_attr(attr: &syn::Attribute) -> bool {
    let last = last_segment(attr.path());
    matches!(last.as_str(), "test" | "rstest" | "test_case" | "test_log")
        || (last == "test" && attr.path().segments.len() > 1)
}

fn is_cfg_test(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("cfg")
        && quote::ToTokens::to_token_stream(&attr.meta)
            .to_string()
            .contains("test")
}

/// `port, tmpdir(data), serial = "ws"` → `{port, tmpdir, serial}`: the identifiers at the top
/// level of the attribute's list.
fn isolated_args(attr: &syn::Attribute) -> BTreeSet<String> {
    let syn::Meta::List(list) = &attr.meta else {
        return BTreeSet::new();
    };
    let mut args = BTreeSet::new();
    let mut expect_key = true;
    for token in list.tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) if expect_key => {
                args.insert(ident.to_string());
                expect_key = false;
            }
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => expect_key = true,
            _ => {}
        }
    }
    args
}
