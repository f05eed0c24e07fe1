//! `process-lock`: serialisation that holds inside one process only.

use super::{global, path_of, peel, Cx, Detector, Hit};
use crate::audit::index::last_segment;
use crate::audit::Kind;
use proc_macro2::Span;

pub(crate) struct ProcessLock;

const LOCK_ARGS: &[&str] = &["serial", "shared"];

impl Detector for ProcessLock {
    fn attrs(&self, attrs: &[syn::Attribute], hits: &mut Vec<Hit>) {
        for attr in attrs {
            let name = last_segment(attr.path());
            if name != "serial" && name != "parallel" {
                continue;
            }
            let group = groups(&attr.meta);
            let (message, fix) = if name == "serial" {
                (
                    "`#[serial]` holds inside one process only: it keeps this test apart from the \
                     binary's other tests under `cargo test`, but under nextest (a process per test) \
                     or two runs at once these tests overlap",
                    format!("`#[isolated(serial = {group})]`: an OS file lock, held across threads and processes"),
                )
            } else {
                (
                    "`#[parallel]` waits for `#[serial]` tests of its own process only: under nextest \
                     or two runs at once it overlaps them",
                    format!("`#[isolated(shared = {group})]`: shared with each other, exclusive of `serial = {group}`, across processes"),
                )
            };
            hits.push(Hit {
                span: syn::spanned::Spanned::span(attr.path()),
                kind: Kind::ProcessLock,
                message: message.to_owned(),
                fix,
                fixed_by: LOCK_ARGS,
            });
        }
    }

    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        // A lock that guards nothing (`Mutex<()>`) is only ever taken to keep tests apart.
        if let Some((name, true, at)) = locked_static(cx, expr) {
            hits.push(hit(cx, at, &name));
        }
    }

    fn block(&self, cx: &Cx<'_, '_>, block: &syn::Block, hits: &mut Vec<Hit>) {
        // A lock that guards data keeps tests apart when its guard is held for the rest of the
        // block (`let _g = M.lock().unwrap();`); locked for one statement
        // (`SEEN.lock().unwrap().push(x)`) it only shares the data.
        for stmt in &block.stmts {
            let syn::Stmt::Local(syn::Local {
                init: Some(init), ..
            }) = stmt
            else {
                continue;
            };
            if let Some((name, false, at)) = locked_static(cx, held(&init.expr)) {
                hits.push(hit(cx, at, &name));
            }
        }
    }
}

/// The groups of `#[serial(a, b)]` as the value of `serial = ..`: `"a"` for one key,
/// `["a", "b"]` for several, `"default"` for none. `serial_test`'s options (`crate = ..`,
/// `timeout_ms = ..`, `inner_attrs = [..]`, `path => ..`) are no keys.
fn groups(meta: &syn::Meta) -> String {
    let syn::Meta::List(list) = meta else {
        return "\"default\"".to_owned();
    };
    let mut keys = Vec::new();
    let mut arg: Vec<proc_macro2::TokenTree> = Vec::new();
    for token in list.tokens.clone().into_iter().chain([comma()]) {
        match token {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => {
                if let [only] = arg.as_slice() {
                    let key = only.to_string();
                    keys.push(format!("\"{}\"", key.trim_matches('"')));
                }
                arg.clear();
            }
            token => arg.push(token),
        }
    }
    match keys.as_slice() {
        [] => "\"default\"".to_owned(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

fn comma() -> proc_macro2::TokenTree {
    proc_macro2::Punct::new(',', proc_macro2::Spacing::Alone).into()
}

/// `(name, guards nothing, where)` of the static that `expr` locks (`M.lock()`, `M.write()`,
/// `M.read()`).
fn locked_static(cx: &Cx<'_, '_>, expr: &syn::Expr) -> Option<(String, bool, Span)> {
    let syn::Expr::MethodCall(call) = expr else {
        return None;
    };
    if !matches!(call.method.to_string().as_str(), "lock" | "write" | "read") {
        return None;
    }
    let name = path_of(peel(&call.receiver))?;
    let guards_nothing = *cx.index.lock_statics.get(&name)?;
    Some((
        name,
        guards_nothing,
        syn::spanned::Spanned::span(&call.receiver),
    ))
}

/// The guard of a `let`'s value: without `?`, `.unwrap()`, `.expect(..)` and
/// `.unwrap_or_else(..)` (a poisoned lock taken anyway).
fn held(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        expr = match peel(expr) {
            syn::Expr::MethodCall(m) if m.method == "unwrap_or_else" => &m.receiver,
            e => return e,
        };
    }
}

fn hit(cx: &Cx<'_, '_>, span: Span, name: &str) -> Hit {
    let guarded = guarded_state(cx, name);
    if let Some(args) = guarded {
        return Hit {
            span,
            kind: Kind::ProcessLock,
            message: format!(
                "the static `{name}` keeps apart the tests that change the process's {}: that \
                 state is per process, so a lock across processes would serialise them for \
                 nothing; but isolated tests that change it do not take this lock, and nothing \
                 restores what was changed",
                if args == ["cwd"] {
                    "working directory"
                } else {
                    "environment"
                }
            ),
            fix: format!(
                "`#[isolated({})]` instead of the lock: exclusive among such tests of the \
                 process, and what they changed is restored when each ends",
                args.join(", ")
            ),
            fixed_by: args,
        };
    }
    Hit {
        span,
        kind: Kind::ProcessLock,
        message: format!(
            "the static `{name}` keeps tests apart inside one process only: under nextest \
             (a process per test) or two runs at once every process has its own, and they overlap"
        ),
        fix: format!("`#[isolated(serial = \"{}\")]` instead of the lock: an OS file lock, held across processes", name.to_lowercase()),
        fixed_by: LOCK_ARGS,
    }
}

/// The per-process state (`env`, `cwd`) that the fns taking the lock `name` change, themselves
/// or through the file's fns they call: then the lock guards that state, and `env` / `cwd`
/// replace it. `None` when they change neither.
fn guarded_state(cx: &Cx<'_, '_>, name: &str) -> Option<&'static [&'static str]> {
    let index = cx.index;
    let (mut env, mut cwd) = (false, false);
    for taker in index.fns.iter().filter(|f| f.names.contains(name)) {
        for reached in index.reached(&taker.name) {
            for &at in index.by_name(reached) {
                for (path, _) in &index.fns[at].call_sites {
                    match global::changed_state(&index.resolve(&path.join("::"))) {
                        Some(["env"]) => env = true,
                        Some(["cwd"]) => cwd = true,
                        _ => {}
                    }
                }
            }
        }
    }
    match (env, cwd) {
        (true, true) => Some(&["env", "cwd"]),
        (true, false) => Some(&["env"]),
        (false, true) => Some(&["cwd"]),
        (false, false) => None,
    }
}
