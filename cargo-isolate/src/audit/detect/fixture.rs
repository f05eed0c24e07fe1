//! `process-fixture`: a server started once per process for the tests to share.

use super::{callee, inside_call, peel, span, Cx, Detector, Hit};
use crate::audit::index::is_once_initialiser;
use crate::audit::Kind;

pub(crate) struct ProcessFixture;

impl Detector for ProcessFixture {
    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        let syn::Expr::MethodCall(call) = expr else {
            return;
        };
        // `Command::spawn` takes no argument: `runtime.spawn(future)` is something else.
        if call.method != "spawn" || !call.args.is_empty() || !from_command(&call.receiver) {
            return;
        }
        // Once per process: inside an initialiser's closure, or in a fn that checks a
        // once-per-process static or that such an initialiser calls.
        if !inside_call(cx, is_once_initialiser) && !cx.index.runs_once_per_process(cx.func) {
            return;
        }
        hits.push(Hit {
            span: span(expr),
            kind: Kind::ProcessFixture,
            message: "a server is started once per process: nextest runs every test in a process of \
                      its own, so each test starts another one (and so does each test binary under \
                      `cargo test`), none is stopped when the run ends, and a test that finds one \
                      not ready yet starts yet another"
                .to_owned(),
            fix: "make it a run-wide `isolate::Fixture` (`static DB: Fixture<T> = Fixture::new(\"db\", \
                  start);`) and give the tests `#[isolated(fixture(db = DB))]`: it is started once \
                  for the whole run, every test waits for that one start, and it is stopped when \
                  the run ends"
                .to_owned(),
            fixed_by: &["fixture"],
        });
    }
}

/// Whether a method chain starts at `Command::new(..)` or at a variable (a command built
/// over several statements).
fn from_command(mut expr: &syn::Expr) -> bool {
    loop {
        match peel(expr) {
            syn::Expr::MethodCall(m) => expr = &m.receiver,
            syn::Expr::Path(path) => return path.path.get_ident().is_some(),
            e => return callee(e).is_some_and(|(path, _)| path.ends_with("Command::new")),
        }
    }
}
