//! `sleep-wait`: a sleep that waits for something to happen before a connect or request.

use super::{callee, last, peel, span, Cx, Detector, Hit};
use crate::audit::Kind;
use syn::visit::Visit;

pub(crate) struct SleepWait;

impl Detector for SleepWait {
    fn block(&self, _cx: &Cx<'_, '_>, block: &syn::Block, hits: &mut Vec<Hit>) {
        for (at, stmt) in block.stmts.iter().enumerate() {
            let syn::Stmt::Expr(expr, _) = stmt else {
                continue;
            };
            let expr = peel(expr);
            if callee(expr).is_none_or(|(p, _)| last(&p) != "sleep") {
                continue;
            }
            let mut reach = Reaches(false);
            for later in &block.stmts[at + 1..] {
                reach.visit_stmt(later);
            }
            if reach.0 {
                hits.push(Hit {
                    span: span(expr),
                    kind: Kind::SleepWait,
                    message: "a sleep waits for something to happen (a server to start, a \
                              connection to go back to its pool) before the test connects or \
                              requests: under load (any runner, most with many tests at once) \
                              it has not happened yet: connection refused, or the wrong answer"
                        .to_owned(),
                    fix: "wait for it instead: bind before starting the server \
                          (`#[isolated(port)]`, `port.into_listener()`), \
                          `isolate::Child::wait_ready(isolate::ready::http(..))`, or \
                          `isolate::eventually(..)` until the state the test needs is there"
                        .to_owned(),
                    fixed_by: &[],
                });
            }
        }
    }
}

/// Whether a connect or request follows.
struct Reaches(bool);

impl<'v> Visit<'v> for Reaches {
    fn visit_expr(&mut self, expr: &'v syn::Expr) {
        let network = |name: &str| {
            matches!(
                name,
                "connect" | "request" | "get" | "post" | "send_request" | "http_get" | "fetch"
            )
        };
        match expr {
            syn::Expr::Call(_) => self.0 |= callee(expr).is_some_and(|(p, _)| network(last(&p))),
            syn::Expr::MethodCall(m) => {
                self.0 |= matches!(
                    m.method.to_string().as_str(),
                    "connect" | "send_request" | "request"
                );
            }
            _ => {}
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_macro(&mut self, mac: &'v syn::Macro) {
        for expr in crate::audit::index::macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }
}
