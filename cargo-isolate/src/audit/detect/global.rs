//! `process-global`: process-wide state that a test changes.

use super::{callee, last, peel, span, Cx, Detector, Hit};
use crate::audit::Kind;

pub(crate) struct ProcessGlobal;

/// Logger set-ups that panic or fail when a second test of the process calls them.
const LOGGER_CRATES: &[&str] = &[
    "env_logger",
    "pretty_env_logger",
    "tracing_subscriber",
    "simple_logger",
    "log4rs",
];

impl Detector for ProcessGlobal {
    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        let found = match expr {
            syn::Expr::Call(_) => {
                callee(expr).and_then(|(path, _)| classify(&cx.index.resolve(&path)))
            }
            syn::Expr::MethodCall(call)
                if call.method == "init" && logger_chain(&call.receiver) =>
            {
                Some(LOGGER)
            }
            _ => None,
        };
        if let Some((what, fix, fixed_by)) = found {
            hits.push(Hit {
                span: span(expr),
                kind: Kind::ProcessGlobal,
                message: format!(
                    "{what}: under `cargo test` every test of the binary shares the process and sees \
                     it; nextest runs each test in a fresh process"
                ),
                fix: fix.to_owned(),
                fixed_by,
            });
        }
    }
}

/// The per-process state a call to `path` (resolved) changes, as the `#[isolated]` argument
/// that makes it exclusive: `["env"]` of `std::env::set_var`, `["cwd"]` of `set_current_dir`.
pub(crate) fn changed_state(path: &str) -> Option<&'static [&'static str]> {
    classify(path)
        .map(|(_, _, fixed_by)| fixed_by)
        .filter(|by| *by == ["env"] || *by == ["cwd"])
}

type Found = (&'static str, &'static str, &'static [&'static str]);

const LOGGER: Found = (
    "a global logger is installed, and a second test's `init()` panics",
    "call `try_init()` and ignore its error, or give the test `#[isolated(fresh_process)]`",
    &["fresh_process"],
);

const ENV_FIX: &str = "`#[isolated(env)]`: the test runs alone among `env` tests of its process and every variable it changed is restored when it ends; tests that only read take `env(read)`";

fn classify(path: &str) -> Option<Found> {
    let first = path.split("::").next().unwrap_or_default();
    match last(path) {
        "set_var" | "remove_var" if path.contains("env") || path == "set_var" || path == "remove_var" => Some((
            "the environment of the whole process changes",
            ENV_FIX,
            &["env"],
        )),
        "with_var" | "with_vars" | "with_var_unset" | "with_vars_unset" | "async_with_vars"
            if first == "temp_env" =>
        {
            Some((
                "`temp_env` changes the environment of the whole process while its closure runs, \
                 under a lock of its own that tests changing it otherwise (or under \
                 `#[isolated(env)]`) and tests reading it do not take",
                ENV_FIX,
                &["env"],
            ))
        }
        "set_current_dir" => Some((
            "the working directory of the whole process changes",
            "`#[isolated(cwd)]`: the test runs alone among `cwd` tests of its process and the directory is restored when it ends; tests that only read it take `cwd(read)`",
            &["cwd"],
        )),
        "exit" if path.contains("process") => Some((
            "`process::exit` ends the whole test binary, and every test running in it",
            "return an error instead, or give the test `#[isolated(fresh_process)]` so the exit ends only its own process",
            &["fresh_process"],
        )),
        "init" | "init_timed" | "set_logger" | "set_boxed_logger" | "set_global_default"
            if LOGGER_CRATES.contains(&first) || first == "log" || first == "tracing" =>
        {
            Some(LOGGER)
        }
        _ => None,
    }
}

/// Whether a method chain starts at a logger crate: `env_logger::builder().is_test(true)`.
fn logger_chain(mut expr: &syn::Expr) -> bool {
    loop {
        match peel(expr) {
            syn::Expr::MethodCall(m) => expr = &m.receiver,
            e => {
                return callee(e)
                    .is_some_and(|(p, _)| LOGGER_CRATES.iter().any(|c| p.starts_with(c)));
            }
        }
    }
}
