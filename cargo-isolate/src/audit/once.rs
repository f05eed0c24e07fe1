//! The package library's statics that are read from the environment once per process (a
//! `OnceLock` of settings, `dotenvy` loading `.env` in a `Once`, a `LazyLock` reading
//! `RUST_LOG`), and the tests' calls of the library fns that reach them. Under `cargo test` the
//! first test of the binary to reach one fixes what every other test sees: a test that sets a
//! variable is not seen when another came first, whatever lock it holds.

use super::detect::Hit;
use super::index::{
    last_segment, lazy_statics, macro_exprs, path_string, FnInfo, Index, ONCE_INITIALISERS,
};
use super::modules::FileId;
use super::{Kind, Place};
use proc_macro2::Span;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use syn::visit::Visit;

/// A once-per-process static whose initialiser reads the environment or the working directory.
pub(crate) struct EnvOnce {
    pub(crate) name: String,
    pub(crate) file: FileId,
    pub(crate) at: Span,
}

/// The library's [`EnvOnce`] statics and the fns that reach each.
#[derive(Default)]
pub(crate) struct Library {
    pub(crate) statics: Vec<EnvOnce>,
    /// By fn name: the statics it holds or initialises, or that a fn it calls (of the same
    /// file) does.
    by_fn: BTreeMap<String, BTreeSet<usize>>,
    /// The library crates' names as tests write them (`isolate_offenders`).
    crates: BTreeSet<String>,
}

/// A test code's call that reaches an [`EnvOnce`].
pub(crate) struct OnceCall {
    pub(crate) static_at: usize,
    /// Why it is linked by the fn's name only, when it is.
    pub(crate) guess: Option<String>,
}

impl Library {
    /// Reads the library files: `files[i]` is `(path, syntax, index)`, and those that are
    /// test code as a whole are left out by the caller.
    pub(crate) fn new(files: &[(FileId, &Path, &syn::File, &Index<'_>)]) -> Self {
        let mut library = Library::default();
        for &(file, path, syntax, index) in files {
            let mut statics = Statics::default();
            statics.visit_file(syntax);
            let readers: BTreeSet<&str> = index
                .fns
                .iter()
                .filter(|f| reads_environment(index, &Expr::Block(f.block)))
                .map(|f| f.name.as_str())
                .collect();
            for (name, (at, inits)) in statics.found {
                let reads = inits.iter().any(|init| {
                    reads_environment(index, &Expr::Expr(init))
                        || named(init)
                            .iter()
                            .any(|n| index.reached(n).iter().any(|r| readers.contains(r)))
                });
                if !reads {
                    continue;
                }
                let id = library.statics.len();
                library.statics.push(EnvOnce {
                    name: name.clone(),
                    file,
                    at,
                });
                let library_fns = || index.fns.iter().filter(|f| !f.in_scope);
                let holders: BTreeSet<&str> = library_fns()
                    .filter(|f| f.names.contains(&name))
                    .map(|f| f.name.as_str())
                    .collect();
                // One level of callers: `level()` that returns `settings().level`.
                let callers = library_fns()
                    .filter(|f| holders.iter().any(|h| f.calls.contains(*h)))
                    .map(|f| f.name.as_str());
                for f in holders.iter().copied().chain(callers) {
                    library.by_fn.entry(f.to_owned()).or_default().insert(id);
                }
            }
            library.crates.extend(crate_name(path));
        }
        library
    }

    /// The statics that the call `path`, in `func` of the test code file `index`, reaches.
    /// `in_library_crate` when that file is the library's own (`#[cfg(test)]` code of `src/`).
    pub(crate) fn called(
        &self,
        index: &Index<'_>,
        func: &FnInfo<'_>,
        path: &[String],
        in_library_crate: bool,
    ) -> Vec<OnceCall> {
        let Some((name, _)) = path.split_last() else {
            return Vec::new();
        };
        let Some(statics) = self.by_fn.get(name) else {
            return Vec::new();
        };
        // What a `use` brings in: `settings` of `use svc::{settings};`.
        let used = |first: &str| {
            [func.module.clone(), Vec::new()]
                .into_iter()
                .find_map(|m| index.scoped_uses.get(&(m, first.to_owned())))
        };
        let resolved: Vec<String> = match used(&path[0]) {
            Some(full) => full.iter().chain(&path[1..]).cloned().collect(),
            None => path.to_vec(),
        };
        let guess = match resolved.as_slice() {
            // A fn of the caller's file: test code of that name, or the library's own.
            [_] if index.by_name(name).iter().any(|&at| index.fns[at].in_scope) => {
                return Vec::new()
            }
            [_] if in_library_crate && !index.by_name(name).is_empty() => None,
            [_] => Some(format!(
                "`{name}` is linked to the library's fn of that name by its name only"
            )),
            [first, ..] if self.crates.contains(first) => None,
            [first, ..] if in_library_crate && matches!(first.as_str(), "crate" | "super") => None,
            _ => return Vec::new(),
        };
        statics
            .iter()
            .map(|&static_at| OnceCall {
                static_at,
                guess: guess.clone(),
            })
            .collect()
    }
}

/// Whether `func` changes the environment through `isolate::vars` (safe under
/// `#[isolated(env)]`, but seen only by what reads it after the change).
pub(crate) fn sets_through_isolate(index: &Index<'_>, func: &FnInfo<'_>) -> bool {
    func.call_sites.iter().any(|(path, _)| {
        let path = index.resolve(&path.join("::"));
        ["isolate", "isolate_runtime"].iter().any(|krate| {
            ["set", "remove"]
                .iter()
                .any(|f| path == format!("{krate}::vars::{f}"))
        })
    })
}

/// The library crate name of a file of `src/`: its package's `name`, as code writes it.
fn crate_name(file: &Path) -> Option<String> {
    let package = file
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file())?;
    let manifest = std::fs::read_to_string(package.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if let Some(value) = line.strip_prefix("name").filter(|_| in_package) {
            let value = value
                .trim_start()
                .strip_prefix('=')?
                .trim()
                .trim_matches('"');
            return Some(value.replace('-', "_"));
        }
    }
    None
}

/// The once-per-process statics of a file (`OnceLock`, `OnceCell`, `Lazy`, `LazyLock`, `Once`,
/// `lazy_static!`), each with where it is declared and the values that initialise it: its own
/// (`LazyLock::new(..)`) and the arguments of its `get_or_init(..)` and `call_once(..)` calls.
#[derive(Default)]
struct Statics {
    found: BTreeMap<String, (Span, Vec<syn::Expr>)>,
    inits: Vec<(String, syn::Expr)>,
}

impl Statics {
    fn add(&mut self, name: &syn::Ident, expr: &syn::Expr) {
        let entry = self
            .found
            .entry(name.to_string())
            .or_insert_with(|| (name.span(), Vec::new()));
        entry.1.push(expr.clone());
    }
}

impl<'ast> Visit<'ast> for Statics {
    fn visit_file(&mut self, file: &'ast syn::File) {
        syn::visit::visit_file(self, file);
        for (name, init) in std::mem::take(&mut self.inits) {
            if let Some((_, inits)) = self.found.get_mut(&name) {
                inits.push(init);
            }
        }
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        let ty = quote::ToTokens::to_token_stream(&item.ty).to_string();
        if ty.contains("Once") || ty.contains("Lazy") {
            self.add(&item.ident, &item.expr);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if last_segment(&mac.path) == "lazy_static" {
            // Every `static ref` of it is set once per process, whatever its type.
            for (name, _, expr) in lazy_statics(mac) {
                self.add(&name, &expr);
            }
        }
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let method = call.method.to_string();
        if ONCE_INITIALISERS.contains(&method.as_str()) {
            if let syn::Expr::Path(receiver) = &*call.receiver {
                if let Some(name) = receiver.path.get_ident() {
                    let args = call.args.iter().cloned();
                    self.inits.extend(args.map(|arg| (name.to_string(), arg)));
                }
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

/// A fn body or an expression.
enum Expr<'a> {
    Block(&'a syn::Block),
    Expr(&'a syn::Expr),
}

/// Whether `expr` reads the environment or the working directory itself (`std::env::var`,
/// `dotenvy::dotenv`, `EnvFilter::from_default_env`, `current_dir`).
fn reads_environment(index: &Index<'_>, expr: &Expr<'_>) -> bool {
    let mut reads = Reads {
        index,
        found: false,
    };
    match expr {
        Expr::Block(block) => reads.visit_block(block),
        Expr::Expr(expr) => reads.visit_expr(expr),
    }
    reads.found
}

struct Reads<'a, 'ast> {
    index: &'a Index<'ast>,
    found: bool,
}

impl<'ast> Visit<'ast> for Reads<'_, '_> {
    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = &*call.func {
            let path = self.index.resolve(&path_string(&path.path));
            let segments: Vec<&str> = path.split("::").collect();
            let last = segments.last().copied().unwrap_or_default();
            self.found |= matches!(last, "var" | "var_os" | "vars" | "vars_os")
                && segments.contains(&"env")
                || matches!(
                    last,
                    "current_dir" | "from_env" | "from_default_env" | "try_from_default_env"
                )
                || matches!(segments[0], "dotenv" | "dotenvy" | "envy");
        }
        syn::visit::visit_expr_call(self, call);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        for expr in macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }
}

/// The fns `expr` calls or names (`from_env` of `get_or_init(Settings::from_env)`).
fn named(expr: &syn::Expr) -> BTreeSet<String> {
    #[derive(Default)]
    struct Named(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Named {
        fn visit_expr_path(&mut self, path: &'ast syn::ExprPath) {
            self.0.insert(last_segment(&path.path));
        }
        fn visit_macro(&mut self, mac: &'ast syn::Macro) {
            for expr in macro_exprs(mac) {
                self.visit_expr(&expr);
            }
        }
    }
    let mut named = Named::default();
    named.visit_expr(expr);
    named.0
}

/// The finding of a test that changes the environment and calls `called`, which reaches the
/// static `name` declared at `cause`.
pub(crate) fn writer(called: &str, name: &str, cause: &Place, at: Span) -> Hit {
    Hit {
        span: at,
        kind: Kind::ProcessGlobal,
        message: format!(
            "{}: under `cargo test` the first test of the binary to reach it fixes what every \
             other test sees, so the variables this test sets are not seen when another test \
             came first, whatever lock it holds (nextest runs each test in a fresh process)",
            reads_once(called, name, cause)
        ),
        fix: "`#[isolated(env, fresh_process)]`: the test runs in a process of its own (under \
              `cargo test` a child of the test binary), where its variables are set before \
              anything reads them"
            .to_owned(),
        fixed_by: &["fresh_process"],
    }
}

/// The finding of a test that only calls `called` (see [`writer`]) beside tests of its file
/// that change the environment.
pub(crate) fn reader(called: &str, name: &str, cause: &Place, at: Span) -> Hit {
    Hit {
        span: at,
        kind: Kind::ProcessGlobal,
        message: format!(
            "{}, and other tests of this file change the environment: under `cargo test` what \
             this test sees depends on which test reached it first, and it may read while \
             another test's variables are set",
            reads_once(called, name, cause)
        ),
        fix: "`#[isolated(env(read))]`: no test of its process changes the environment while it \
              reads; the tests that change it take `#[isolated(env, fresh_process)]`, so their \
              changes stay in processes of their own"
            .to_owned(),
        fixed_by: &["env(read)", "env", "fresh_process"],
    }
}

fn reads_once(called: &str, name: &str, cause: &Place) -> String {
    format!(
        "`{called}` reads the environment once per process, into the static `{name}` ({}:{})",
        cause.file, cause.line
    )
}
