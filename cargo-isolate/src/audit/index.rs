//! What one file declares that the detectors need: its fns (tests or helpers, their
//! `#[isolated(...)]` arguments, what they call), its port constants and its lock statics.

use super::receivers::{self, method_sites, MethodSite};
use proc_macro2::Span;
use std::collections::{BTreeMap, BTreeSet};
use syn::visit::Visit;

/// A `mod` item: inline (`mod tests { .. }`) or read from another file (`mod common;`).
pub(crate) struct ModDecl {
    /// The inline modules it is declared in.
    pub(crate) within: Vec<String>,
    pub(crate) name: String,
    /// Its items are in the braces that follow, not in a file of their own.
    pub(crate) inline: bool,
    /// The file named by `#[path = ".."]`.
    pub(crate) path: Option<String>,
    /// Test code: `#[cfg(test)]`, or declared in test code.
    pub(crate) test: bool,
}

/// One fn of the file (free, nested in a module, or in an impl).
pub(crate) struct FnInfo<'ast> {
    pub(crate) name: String,
    pub(crate) attrs: &'ast [syn::Attribute],
    pub(crate) block: &'ast syn::Block,
    /// A test fn (`#[test]`, `#[tokio::test]`, `#[rstest]`, ...).
    pub(crate) is_test: bool,
    /// Test code: a test, anything in a `#[cfg(test)]` module, or any fn of a file under `tests/`.
    pub(crate) in_scope: bool,
    /// The top-level argument names of `#[isolated(...)]`, its own and its modules' (on
    /// `mod tests` it holds for every test inside), when it or a module has one.
    pub(crate) isolated: Option<BTreeSet<String>>,
    /// The names of the fns it calls (last path segment).
    pub(crate) calls: BTreeSet<String>,
    /// The fns it calls, as written (`common::setup`), each with where the call is.
    pub(crate) call_sites: Vec<(Vec<String>, Span)>,
    /// The inline modules it sits in (`tests` of `mod tests { fn f() {} }`).
    pub(crate) module: Vec<String>,
    /// An item of its module that a path can name: not in an impl, not nested in a fn body.
    pub(crate) named_by_path: bool,
    /// The single-segment names its body mentions (statics, locals, fns passed as values).
    pub(crate) names: BTreeSet<String>,
    /// The impl it is in, when it is in one.
    pub(crate) in_impl: Option<InImpl>,
    /// The methods it calls (`server.start()`).
    pub(crate) method_sites: Vec<MethodSite>,
}

/// A fn of an impl.
pub(crate) struct InImpl {
    /// The impl's type (`Server` of `impl Server` or `impl Drop for Server`).
    pub(crate) owner: String,
    /// A method: it takes `self`.
    pub(crate) takes_self: bool,
    /// It returns its impl's type (`-> Self`, `-> io::Result<Server>`): a constructor.
    pub(crate) returns_self: bool,
}

impl FnInfo<'_> {
    /// The type of the impl it is in.
    pub(crate) fn owner(&self) -> Option<&str> {
        self.in_impl.as_ref().map(|i| i.owner.as_str())
    }
}

/// The file's fns and the items detectors look up by name.
#[derive(Default)]
pub(crate) struct Index<'ast> {
    pub(crate) fns: Vec<FnInfo<'ast>>,
    /// The test modules' names and attributes (`#[serial] mod db { .. }` holds every test inside).
    pub(crate) mods: Vec<(String, &'ast [syn::Attribute])>,
    /// `const` items that hold a port number (`const PORT: u16 = 8080`).
    pub(crate) port_consts: BTreeSet<String>,
    /// `static` items holding a `Mutex` or `RwLock`, and whether it guards nothing (`Mutex<()>`):
    /// such a lock only ever keeps tests apart.
    pub(crate) lock_statics: BTreeMap<String, bool>,
    /// `static` items that make something happen once per process: a flag (`AtomicBool`), a
    /// cell (`OnceLock`, `OnceCell`, `Lazy`, `LazyLock`) or a `Once`.
    pub(crate) once_statics: BTreeSet<String>,
    /// The fns a once-per-process initialiser calls or is given (`Lazy::new(start)`,
    /// `CELL.get_or_init(|| start())`), anywhere in the file.
    pub(crate) once_inits: BTreeSet<String>,
    /// Parameter names of the file's fns, by fn name.
    pub(crate) params: BTreeMap<String, Vec<String>>,
    /// The paths the file's `use` items name: `exit` → `std::process::exit` of
    /// `use std::process::exit;`, `cd` → `std::env::set_current_dir` of `... as cd`.
    uses: BTreeMap<String, String>,
    /// The fns of each name, by place in `fns`.
    by_name: BTreeMap<String, Vec<usize>>,
    /// Every `mod` item, in file order.
    pub(crate) mod_decls: Vec<ModDecl>,
    /// What a `use` brings into its module, by (module, name): `f` → `["common", "f"]` of
    /// `use common::f;` at the top level.
    pub(crate) scoped_uses: BTreeMap<(Vec<String>, String), Vec<String>>,
    /// The modules each module globs in: `(["tests"], ["super"])` of `mod tests { use super::*; }`.
    pub(crate) globs: Vec<(Vec<String>, Vec<String>)>,
}

impl<'ast> Index<'ast> {
    /// Indexes `file`; `all_test_code` for files under `tests/`.
    pub(crate) fn new(file: &'ast syn::File, all_test_code: bool) -> Self {
        let mut builder = Builder {
            index: Index::default(),
            in_test_mod: all_test_code,
            module: Vec::new(),
            fn_depth: 0,
            owner: None,
            mod_isolated: None,
        };
        builder.visit_file(file);
        let mut index = builder.index;
        for (at, f) in index.fns.iter().enumerate() {
            index.by_name.entry(f.name.clone()).or_default().push(at);
        }
        index
    }

    /// Makes every fn and module of the file test code: it is declared by `#[cfg(test)] mod x;`
    /// (or from test code).
    pub(crate) fn mark_test_code(&mut self) {
        for f in &mut self.fns {
            f.in_scope = true;
        }
    }

    /// The fns of `module` that the path `module::name` names.
    pub(crate) fn named<'s>(
        &'s self,
        module: &'s [String],
        name: &'s str,
    ) -> impl Iterator<Item = usize> + 's {
        self.by_name(name).iter().copied().filter(move |&at| {
            let f = &self.fns[at];
            f.named_by_path && f.module == module
        })
    }

    /// `path` with its first segment replaced by what the file's `use` items bring in under
    /// that name: `exit` → `std::process::exit`, `env::set_var` → `std::env::set_var`.
    pub(crate) fn resolve(&self, path: &str) -> String {
        let (first, rest) = path
            .split_once("::")
            .map_or((path, None), |(f, r)| (f, Some(r)));
        match (self.uses.get(first), rest) {
            (Some(full), Some(rest)) => format!("{full}::{rest}"),
            (Some(full), None) => full.clone(),
            (None, _) => path.to_owned(),
        }
    }

    /// Whether `f` runs once per process: it mentions a once-per-process static, or an
    /// initialiser of one calls it (directly or through the file's other fns).
    pub(crate) fn runs_once_per_process(&self, f: &FnInfo<'ast>) -> bool {
        f.names.iter().any(|name| self.once_statics.contains(name))
            || self.once_inits.iter().any(|init| {
                self.by_name(init)
                    .iter()
                    .any(|&g| self.reaches(&self.fns[g], &f.name))
            })
    }

    /// The names of the fns reached from the fns named `from`, and `from` itself.
    pub(crate) fn reached<'s>(&'s self, from: &'s str) -> BTreeSet<&'s str> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(name) = stack.pop() {
            if !seen.insert(name) {
                continue;
            }
            for &at in self.by_name.get(name).into_iter().flatten() {
                stack.extend(self.fns[at].calls.iter().map(String::as_str));
            }
        }
        seen
    }

    fn reaches(&self, from: &FnInfo<'ast>, target: &str) -> bool {
        self.reached(&from.name).contains(target)
    }

    /// The fns named `name`, by place in `fns`.
    pub(crate) fn by_name(&self, name: &str) -> &[usize] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

struct Builder<'ast> {
    index: Index<'ast>,
    in_test_mod: bool,
    /// The inline modules being visited.
    module: Vec<String>,
    /// How many fn bodies the visit is inside (items in a body are no paths' targets).
    fn_depth: usize,
    /// The type of the impl being visited.
    owner: Option<String>,
    /// The `#[isolated(...)]` arguments of the inline modules being visited, together.
    mod_isolated: Option<BTreeSet<String>>,
}

impl<'ast> Builder<'ast> {
    fn add_fn(
        &mut self,
        name: String,
        attrs: &'ast [syn::Attribute],
        sig: &syn::Signature,
        block: &'ast syn::Block,
        named_by_path: bool,
        owner: Option<String>,
    ) {
        let is_test = attrs.iter().any(is_test_attr);
        let cfg_test = attrs.iter().any(is_cfg_test);
        let isolated = join(self.mod_isolated.clone(), isolated_of(attrs));
        let mut mentions = Mentions::default();
        mentions.visit_block(block);
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
        let in_impl = owner.map(|owner| InImpl {
            returns_self: match &sig.output {
                syn::ReturnType::Type(_, ty) => quote_type(ty)
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|word| word == "Self" || word == owner),
                syn::ReturnType::Default => false,
            },
            takes_self: sig.receiver().is_some(),
            owner,
        });
        self.index.fns.push(FnInfo {
            name,
            attrs,
            block,
            is_test,
            in_scope: is_test || cfg_test || self.in_test_mod,
            isolated,
            calls: mentions.calls,
            call_sites: mentions.call_sites,
            module: self.module.clone(),
            named_by_path,
            names: mentions.names,
            in_impl,
            method_sites: method_sites(block),
        });
        self.index.once_inits.extend(mentions.once_inits);
    }
}

impl<'ast> Visit<'ast> for Builder<'ast> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.add_fn(
            item.sig.ident.to_string(),
            &item.attrs,
            &item.sig,
            &item.block,
            self.fn_depth == 0,
            None,
        );
        // Items nested in the body: a helper fn declared inside a test is a fn of its own.
        self.fn_depth += 1;
        syn::visit::visit_item_fn(self, item);
        self.fn_depth -= 1;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.add_fn(
            item.sig.ident.to_string(),
            &item.attrs,
            &item.sig,
            &item.block,
            false,
            self.owner.clone(),
        );
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let outer = std::mem::replace(&mut self.owner, receivers::type_name(&item.self_ty));
        syn::visit::visit_item_impl(self, item);
        self.owner = outer;
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let outer = self.in_test_mod;
        self.in_test_mod |= item.attrs.iter().any(is_cfg_test);
        if self.in_test_mod {
            self.index.mods.push((item.ident.to_string(), &item.attrs));
        }
        let name = item.ident.to_string();
        let outer_isolated = self.mod_isolated.clone();
        self.mod_isolated = join(outer_isolated.clone(), isolated_of(&item.attrs));
        self.index.mod_decls.push(ModDecl {
            within: self.module.clone(),
            name: name.clone(),
            inline: item.content.is_some(),
            path: item.attrs.iter().find_map(path_attr),
            test: self.in_test_mod,
        });
        self.module.push(name);
        syn::visit::visit_item_mod(self, item);
        self.module.pop();
        self.in_test_mod = outer;
        self.mod_isolated = outer_isolated;
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

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.add_use("", &item.tree);
        self.add_scoped_use(Vec::new(), &item.tree);
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.add_static(item.ident.to_string(), &item.ty, &item.expr);
    }

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        self.add_lazy_statics(&item.mac);
    }

    fn visit_stmt_macro(&mut self, stmt: &'ast syn::StmtMacro) {
        // In a fn body (a helper's own lock; seen on attohttpc) as at the top of a file.
        self.add_lazy_statics(&stmt.mac);
    }
}

impl Builder<'_> {
    /// `lazy_static! { static ref LOCK: Mutex<()> = Mutex::new(()); }`: statics like others.
    fn add_lazy_statics(&mut self, mac: &syn::Macro) {
        if last_segment(&mac.path) == "lazy_static" {
            for (name, ty, expr) in lazy_statics(mac) {
                self.add_static(name.to_string(), &ty, &expr);
            }
        }
    }

    /// Records a static holding a lock or set once per process, and the fns its value calls.
    fn add_static(&mut self, name: String, ty: &syn::Type, expr: &syn::Expr) {
        let ty = quote_type(ty);
        let guards_nothing = ty.contains("Mutex < () >") || ty.contains("RwLock < () >");
        if ty.contains("Mutex") || ty.contains("RwLock") {
            self.index.lock_statics.insert(name.clone(), guards_nothing);
        }
        // A `Lazy<Mutex<()>>` is a lock: what it makes once is the lock, no server.
        if ONCE_TYPES.iter().any(|once| ty.contains(once)) && !guards_nothing {
            self.index.once_statics.insert(name);
        }
        let mut mentions = Mentions::default();
        mentions.visit_expr(expr);
        self.index.once_inits.extend(mentions.once_inits);
    }
}

/// The `(name, type, value)` of each `static ref` of a `lazy_static!` body; none when it is no
/// such body.
pub(crate) fn lazy_statics(mac: &syn::Macro) -> Vec<(syn::Ident, syn::Type, syn::Expr)> {
    let parse = |input: syn::parse::ParseStream<'_>| {
        let mut statics = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<syn::Token![static]>()?;
            input.parse::<syn::Token![ref]>()?;
            let name: syn::Ident = input.parse()?;
            input.parse::<syn::Token![:]>()?;
            let ty: syn::Type = input.parse()?;
            input.parse::<syn::Token![=]>()?;
            let expr: syn::Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            statics.push((name, ty, expr));
        }
        Ok(statics)
    };
    mac.parse_body_with(parse).unwrap_or_default()
}

/// The arguments of the `#[isolated(...)]` among `attrs`.
fn isolated_of(attrs: &[syn::Attribute]) -> Option<BTreeSet<String>> {
    attrs
        .iter()
        .find(|a| last_segment(a.path()) == "isolated")
        .map(isolated_args)
}

/// A module's arguments and an item's own, which combine.
fn join(
    outer: Option<BTreeSet<String>>,
    own: Option<BTreeSet<String>>,
) -> Option<BTreeSet<String>> {
    match (outer, own) {
        (Some(mut outer), Some(own)) => {
            outer.extend(own);
            Some(outer)
        }
        (outer, own) => outer.or(own),
    }
}

impl Builder<'_> {
    /// Records every name `tree` brings in, under `prefix`; globs bring in nothing we know.
    fn add_use(&mut self, prefix: &str, tree: &syn::UseTree) {
        let join = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}::{name}")
            }
        };
        match tree {
            syn::UseTree::Path(path) => self.add_use(&join(&path.ident.to_string()), &path.tree),
            // `use std::env::{self}` brings in `env` itself.
            syn::UseTree::Name(name) if name.ident == "self" => {
                if let Some(last) = prefix.rsplit("::").next().filter(|l| !l.is_empty()) {
                    self.index.uses.insert(last.to_owned(), prefix.to_owned());
                }
            }
            syn::UseTree::Name(name) => {
                let name = name.ident.to_string();
                self.index.uses.insert(name.clone(), join(&name));
            }
            syn::UseTree::Rename(rename) => {
                self.index
                    .uses
                    .insert(rename.rename.to_string(), join(&rename.ident.to_string()));
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.add_use(prefix, tree);
                }
            }
            syn::UseTree::Glob(_) => {}
        }
    }
}

impl Builder<'_> {
    /// Records what `tree` brings into the module being visited, by segments: the paths a call
    /// into another module may go through (`use common::{setup as s}`, `use super::*`).
    fn add_scoped_use(&mut self, mut prefix: Vec<String>, tree: &syn::UseTree) {
        let mut bring = |name: String, path: Vec<String>| {
            if name != "_" {
                let key = (self.module.clone(), name);
                self.index.scoped_uses.insert(key, path);
            }
        };
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.add_scoped_use(prefix, &path.tree);
            }
            syn::UseTree::Name(name) if name.ident == "self" => {
                if let Some(last) = prefix.last().cloned() {
                    bring(last, prefix);
                }
            }
            syn::UseTree::Name(name) => {
                prefix.push(name.ident.to_string());
                bring(name.ident.to_string(), prefix);
            }
            syn::UseTree::Rename(rename) => {
                prefix.push(rename.ident.to_string());
                bring(rename.rename.to_string(), prefix);
            }
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.add_scoped_use(prefix.clone(), tree);
                }
            }
            syn::UseTree::Glob(_) => self.index.globs.push((self.module.clone(), prefix)),
        }
    }
}

/// The file of `#[path = "file.rs"]`.
fn path_attr(attr: &syn::Attribute) -> Option<String> {
    match &attr.meta {
        syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

/// Types of statics whose value is set once per process.
const ONCE_TYPES: &[&str] = &["Atomic", "Once", "Lazy"];

/// Methods and constructors whose closure (or fn) argument runs once per process.
pub(crate) const ONCE_INITIALISERS: &[&str] = &[
    "get_or_init",
    "get_or_try_init",
    "call_once",
    "call_once_force",
    "Lazy::new",
    "LazyLock::new",
];

/// Whether a call to `callee` (a method name or a `Type::new` path) runs its argument once per
/// process.
pub(crate) fn is_once_initialiser(callee: &str) -> bool {
    ONCE_INITIALISERS
        .iter()
        .any(|init| callee == *init || callee.ends_with(&format!("::{init}")))
}

/// The called fns' names, the names mentioned and the fns given to once-per-process
/// initialisers, macro bodies included.
#[derive(Default)]
struct Mentions {
    calls: BTreeSet<String>,
    call_sites: Vec<(Vec<String>, Span)>,
    names: BTreeSet<String>,
    once_inits: BTreeSet<String>,
}

impl Mentions {
    /// Records the fns an initialiser's arguments call or name.
    fn once_init(&mut self, args: &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>) {
        for arg in args {
            let mut inner = Mentions::default();
            inner.visit_expr(arg);
            self.once_inits.extend(inner.calls);
            self.once_inits.extend(inner.names);
        }
    }
}

impl<'ast> Visit<'ast> for Mentions {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            self.calls.insert(last_segment(&path.path));
            let segments = path.path.segments.iter().map(|s| s.ident.to_string());
            self.call_sites
                .push((segments.collect(), syn::spanned::Spanned::span(&path.path)));
            let callee = path_string(&path.path);
            if is_once_initialiser(&callee) {
                self.once_init(&call.args);
            }
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if is_once_initialiser(&call.method.to_string()) {
            self.once_init(&call.args);
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
        if let Some(ident) = path.path.get_ident() {
            self.names.insert(ident.to_string());
        }
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

/// `a::b::c` of a path.
pub(crate) fn path_string(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

fn quote_type(ty: &syn::Type) -> String {
    quote::ToTokens::to_token_stream(ty).to_string()
}

fn is_test_attr(attr: &syn::Attribute) -> bool {
    let last = last_segment(attr.path());
    matches!(last.as_str(), "test" | "rstest" | "test_case" | "test_log")
        || (last == "test" && attr.path().segments.len() > 1)
}

/// `#[cfg(test)]`, `#[cfg(all(test, unix))]`: code only test builds compile.
/// `#[cfg(any(test, feature = "testing"))]` is not: a feature ships it in the library (seen on
/// Figment's `Jail`, which its users' tests call).
fn is_cfg_test(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("cfg")
        && attr
            .parse_args::<syn::Meta>()
            .is_ok_and(|meta| requires_test(&meta))
}

/// Whether the cfg predicate holds only when `test` does.
fn requires_test(meta: &syn::Meta) -> bool {
    match meta {
        syn::Meta::Path(path) => path.is_ident("test"),
        syn::Meta::List(list) => {
            let parts = list
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .unwrap_or_default();
            if list.path.is_ident("all") {
                parts.iter().any(requires_test)
            } else if list.path.is_ident("any") {
                !parts.is_empty() && parts.iter().all(requires_test)
            } else {
                false
            }
        }
        syn::Meta::NameValue(_) => false,
    }
}

/// `port, tmpdir(data), serial = "ws", env(read)` → `{port, tmpdir, serial, env(read)}`: the
/// identifiers at the top level of the attribute's list; a reader of `env` or `cwd` is not a
/// writer (a test that sets a variable under `env(read)` still races).
fn isolated_args(attr: &syn::Attribute) -> BTreeSet<String> {
    let syn::Meta::List(list) = &attr.meta else {
        return BTreeSet::new();
    };
    let mut args = BTreeSet::new();
    let mut key: Option<String> = None;
    for token in list.tokens.clone() {
        match token {
            proc_macro2::TokenTree::Ident(ident) if key.is_none() => {
                let name = ident.to_string();
                args.insert(name.clone());
                key = Some(name);
            }
            proc_macro2::TokenTree::Group(group)
                if matches!(key.as_deref(), Some("env" | "cwd"))
                    && group.stream().to_string().trim() == "read" =>
            {
                let name = key.take().unwrap_or_default();
                args.remove(&name);
                args.insert(format!("{name}(read)"));
                key = Some(String::new());
            }
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => key = None,
            _ => {}
        }
    }
    args
}
