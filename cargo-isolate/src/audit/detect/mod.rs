//! The detectors, one module per family, and the helpers they share to read expressions.

mod fixture;
mod global;
mod lock;
mod path;
mod port;
mod sleep;

use super::index::{path_string, FnInfo, Index};
use super::Kind;
use proc_macro2::Span;

/// What a detector sees around the expression it checks.
pub(crate) struct Cx<'a, 'ast> {
    pub(crate) index: &'a Index<'ast>,
    /// The fn being walked.
    pub(crate) func: &'a FnInfo<'ast>,
    /// The expressions enclosing the one being checked, outermost first.
    pub(crate) ancestors: &'a [&'a syn::Expr],
}

/// A detector's finding before it is placed in a file and checked against the tests'
/// `#[isolated(...)]` arguments.
#[derive(Debug)]
pub(crate) struct Hit {
    pub(crate) span: Span,
    pub(crate) kind: Kind,
    pub(crate) message: String,
    pub(crate) fix: String,
    /// The `#[isolated(...)]` arguments any one of which already fixes it.
    pub(crate) fixed_by: &'static [&'static str],
}

/// One family of offenders. Every hook defaults to finding nothing.
pub(crate) trait Detector {
    /// Checks one expression of a fn body (macro bodies included).
    fn expr(&self, _cx: &Cx<'_, '_>, _expr: &syn::Expr, _hits: &mut Vec<Hit>) {}
    /// Checks one block's statements as a sequence.
    fn block(&self, _cx: &Cx<'_, '_>, _block: &syn::Block, _hits: &mut Vec<Hit>) {}
    /// Checks a fn's own attributes.
    fn attrs(&self, _attrs: &[syn::Attribute], _hits: &mut Vec<Hit>) {}
}

/// Every detector.
pub(crate) fn all() -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(port::FixedPort),
        Box::new(port::ReleasedPort),
        Box::new(port::SocketHeavy),
        Box::new(path::FixedPath),
        Box::new(lock::ProcessLock),
        Box::new(sleep::SleepWait),
        Box::new(global::ProcessGlobal),
        Box::new(fixture::ProcessFixture),
    ]
}

/// `a::b::c` of a path expression.
pub(crate) fn path_of(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Path(path) => Some(path_string(&path.path)),
        _ => None,
    }
}

/// The called path of a call expression: `TcpListener::bind` of `TcpListener::bind(..)`.
pub(crate) fn callee(
    expr: &syn::Expr,
) -> Option<(
    String,
    &syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
)> {
    match expr {
        syn::Expr::Call(call) => Some((path_of(&call.func)?, &call.args)),
        _ => None,
    }
}

/// The last segment of a path string.
pub(crate) fn last(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// The expression without the parentheses, references, `?`, `.unwrap()`, `.expect(..)` and
/// `.await` around it.
pub(crate) fn peel(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        expr = match expr {
            syn::Expr::Paren(e) => &e.expr,
            syn::Expr::Reference(e) => &e.expr,
            syn::Expr::Try(e) => &e.expr,
            syn::Expr::Await(e) => &e.base,
            syn::Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "unwrap" | "expect") =>
            {
                &m.receiver
            }
            _ => return expr,
        };
    }
}

/// The value of an integer literal.
pub(crate) fn int(expr: &syn::Expr) -> Option<u64> {
    match peel(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) => int.base10_parse().ok(),
        _ => None,
    }
}

/// The value of a string literal.
pub(crate) fn string(expr: &syn::Expr) -> Option<String> {
    match peel(expr) {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// The port of an address or URL literal: `"127.0.0.1:3012"`, `"localhost:80"`,
/// `"[::1]:8080"`, `"http://localhost:8080/health"`. `None` when it is no address.
pub(crate) fn literal_port(text: &str) -> Option<u16> {
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let host = host.rsplit('@').next()?;
    let hostlike = host == "localhost"
        || host.starts_with('[') && host.ends_with(']')
        || (!host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && host.contains('.'));
    if !hostlike || port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    port.parse().ok()
}

/// A port value in code: a non-zero integer literal, or one of the file's port constants.
/// Returns how to name it in a message.
pub(crate) fn fixed_port(cx: &Cx<'_, '_>, expr: &syn::Expr) -> Option<String> {
    if let Some(n) = int(expr) {
        return (1..=65_535).contains(&n).then(|| n.to_string());
    }
    let name = path_of(peel(expr))?;
    cx.index
        .port_consts
        .contains(&name)
        .then(|| format!("`{name}`"))
}

/// Whether any enclosing call or method is named `name` (last path segment).
pub(crate) fn inside_call(cx: &Cx<'_, '_>, pred: impl Fn(&str) -> bool) -> bool {
    cx.ancestors.iter().any(|a| match a {
        syn::Expr::Call(_) => callee(a).is_some_and(|(p, _)| pred(&p)),
        syn::Expr::MethodCall(m) => pred(&m.method.to_string()),
        _ => false,
    })
}

/// The span of an expression's first token.
pub(crate) fn span(expr: &syn::Expr) -> Span {
    syn::spanned::Spanned::span(expr)
}
