//! Ports: fixed ones, ones picked and released before use, and tests that open hundreds of
//! sockets at once.

use super::{
    callee, fixed_port, inside_call, int, last, literal_port, path_of, peel, span, string, Cx,
    Detector, Hit,
};
use crate::audit::Kind;

/// The arguments that give a test its own port.
const PORT_ARGS: &[&str] = &["port", "port6", "udp", "udp6", "reserved_port", "serial"];

/// `fixed-port`: a literal port bound or connected to.
pub(crate) struct FixedPort;

impl Detector for FixedPort {
    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        // The port's name, where it is, and whether its address is IPv6.
        let found = match expr {
            // An address string counts where it is bound, connected or requested, not where a
            // parser is tested on it.
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) if inside_call(cx, is_network) => {
                let text = s.value();
                literal_port(&text)
                    .filter(|&p| p != 0)
                    .map(|p| p.to_string())
                    .or_else(|| {
                        // `format!("127.0.0.1:{PORT}")`: a port constant inlined in an address.
                        cx.index
                            .port_consts
                            .iter()
                            .find(|c| text.contains(&format!(":{{{c}}}")))
                            .map(|c| format!("`{c}`"))
                    })
                    .map(|port| (port, span(expr), is_v6(expr)))
            }
            syn::Expr::Tuple(tuple)
                if tuple.elems.len() == 2 && is_host(&tuple.elems[0]) && uses_network(cx) =>
            {
                fixed_port(cx, &tuple.elems[1])
                    .map(|port| (port, span(&tuple.elems[1]), is_v6(&tuple.elems[0])))
            }
            syn::Expr::Call(_) => callee(expr).and_then(|(path, args)| {
                let (arg, v6) = if matches!(last(&path), "new") && path.contains("SocketAddr") {
                    let v6 = path.contains("V6") || args.first().is_some_and(is_v6);
                    (args.iter().nth(1).filter(|_| uses_network(cx)), v6)
                } else {
                    (port_param_arg(cx, last(&path), args), false)
                };
                let arg = arg?;
                fixed_port(cx, arg).map(|port| (port, span(arg), v6))
            }),
            _ => None,
        };
        // Below 1024 a test binds nothing (it needs root): such a port is one no server listens
        // on; and a value expected to fail (`.unwrap_err()`) is bad input under test.
        let privileged = found
            .as_ref()
            .is_some_and(|(port, _, _)| port.parse::<u16>().is_ok_and(|p| p < 1024));
        if privileged || inside_call(cx, |m| matches!(m, "unwrap_err" | "expect_err" | "is_err")) {
            return;
        }
        if let Some((port, at, v6)) = found {
            let udp = inside_call(cx, |p| p.contains("Udp"));
            let serves = inside_call(cx, |p| matches!(last(p), "bind" | "listen" | "serve"));
            let connects = inside_call(cx, |p| {
                matches!(
                    last(p),
                    "connect" | "connect_timeout" | "connect_async" | "get" | "post" | "request"
                )
            });
            let six = if v6 { "6" } else { "" };
            let (message, fix) = if udp {
                (
                    format!("port {port} is fixed: {COLLIDE}"),
                    format!("`#[isolated(udp{six})]`: bind `udp{six}.into_socket()` instead"),
                )
            } else if serves || !connects {
                (
                    format!("port {port} is fixed: {COLLIDE}"),
                    format!("`#[isolated(port{six})]`: serve on `port{six}.into_listener()`, connect to `port{six}.addr()`"),
                )
            } else {
                // Only connected to here: a server the tests start, or one they do not (a
                // database in a container; seen on rust-postgres), which no port of ours moves.
                (
                    format!(
                        "port {port} is fixed and only connected to here: if the tests start its \
                         server, {COLLIDE}; if it is a service they do not start (a database), \
                         every test shares its state"
                    ),
                    format!(
                        "a server the tests start: `#[isolated(port{six})]`, serve on \
                         `port{six}.into_listener()` and connect to `port{six}.addr()`; a service they do \
                         not: `#[isolated(serial = \"{port}\")]` on the tests that change its state"
                    ),
                )
            };
            hits.push(Hit {
                span: at,
                kind: Kind::FixedPort,
                message,
                fix,
                fixed_by: PORT_ARGS,
            });
        }
    }
}

/// Whether an address or its host is IPv6 (`"[::1]:8080"`, `"::1"`, `Ipv6Addr::LOCALHOST`,
/// `IpAddr::V6(..)`): then `port6` (or `udp6`) gives the test its port, not `port`.
fn is_v6(expr: &syn::Expr) -> bool {
    if let Some(text) = string(expr) {
        return text.contains('[') || !text.contains("://") && text.matches(':').count() > 1;
    }
    let tokens = quote::ToTokens::to_token_stream(expr).to_string();
    tokens.contains("Ipv6") || tokens.contains("V6")
}

/// Why a fixed port breaks when tests serve on it.
const COLLIDE: &str = "under `cargo test` two tests of this binary, under nextest or two runs at \
    once any two processes, use it at once: address in use, or a client reaches another test's \
    server";

/// Calls that bind, connect or request.
fn is_network(name: &str) -> bool {
    matches!(
        last(name),
        "bind"
            | "connect"
            | "connect_timeout"
            | "send_to"
            | "get"
            | "post"
            | "put"
            | "delete"
            | "request"
            | "http"
            | "tcp"
            | "serve"
            | "listen"
            | "connect_async"
    )
}

/// Whether the fn being walked binds, connects, serves or starts something: a word of a
/// called fn's or method's name (`bind`, `connect_async`, `run_server`, `tokio::spawn`). An
/// address built in a fn that does none of these is a value under test (an encoder's input, a
/// `set_port` check; seen on hyper-util), not a socket.
fn uses_network(cx: &Cx<'_, '_>) -> bool {
    const WORDS: &[&str] = &[
        "bind", "connect", "listen", "serve", "server", "accept", "request", "spawn", "start",
        "run", "http", "tcp", "udp", "client", "get", "post",
    ];
    let networky = |name: &str| name.split('_').any(|word| WORDS.contains(&word));
    let paths = cx
        .func
        .call_sites
        .iter()
        .filter_map(|(path, _)| path.last());
    let methods = cx.func.method_sites.iter().map(|site| &site.method);
    paths.chain(methods).any(|name| networky(name))
}

/// An argument the file's own fn takes as a `port` parameter (`start(18_090)` of
/// `fn start(port: u16)`), when it is a literal above the privileged range.
fn port_param_arg<'e>(
    cx: &Cx<'_, '_>,
    name: &str,
    args: &'e syn::punctuated::Punctuated<syn::Expr, syn::Token![,]>,
) -> Option<&'e syn::Expr> {
    let params = cx.index.params.get(name)?;
    args.iter()
        .zip(params)
        .find(|(arg, param)| {
            param.contains("port") && int(arg).is_some_and(|n| (1024..=65_535).contains(&n))
        })
        .map(|(arg, _)| arg)
}

/// A host in an address tuple: a host string, four octets, or an `Ipv4Addr`-like value.
fn is_host(expr: &syn::Expr) -> bool {
    match peel(expr) {
        syn::Expr::Array(array) => {
            array.elems.len() == 4 && array.elems.iter().all(|e| int(e).is_some())
        }
        e => {
            string(e).is_some_and(|s| s == "localhost" || s.contains('.') || s.contains(':'))
                || quote::ToTokens::to_token_stream(e)
                    .to_string()
                    .contains("Ip")
        }
    }
}

/// The arguments that hold a port for the whole test.
const HELD_ARGS: &[&str] = &["port", "port6", "udp", "udp6", "reserved_port"];

/// Crates and fns that pick a free port and release it for the caller to bind.
const PICKER_CRATES: &[&str] = &[
    "portpicker",
    "port_check",
    "port_scanner",
    "get_port",
    "openport",
    "port_selector",
    "find_port",
];
const PICKER_FNS: &[&str] = &[
    "pick_unused_port",
    "free_local_port",
    "free_local_ipv4_port",
    "free_local_ipv6_port",
    "get_available_port",
    "is_local_port_free",
    "is_port_available",
    "random_free_port",
    "find_free_port",
    // actix-test's and actix-http-test's.
    "unused_addr",
];

/// `released-port`: a port picked and released before use.
pub(crate) struct ReleasedPort;

impl ReleasedPort {
    fn hit(at: proc_macro2::Span, how: &str, v6: bool) -> Hit {
        let port = if v6 { "port6" } else { "port" };
        Hit {
            span: at,
            kind: Kind::ReleasedPort,
            message: format!(
                "{how}: the port is free again before the test binds it, and another test or process \
                 (under any runner) can take it in between: address in use"
            ),
            fix: format!("`#[isolated({port})]`: the test holds its listener from the start (`{port}.into_listener()`)"),
            fixed_by: HELD_ARGS,
        }
    }
}

impl Detector for ReleasedPort {
    fn expr(&self, _cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        if let Some((path, _)) = callee(expr) {
            let first = path.split("::").next().unwrap_or_default();
            if PICKER_CRATES.contains(&first) || PICKER_FNS.contains(&last(&path)) {
                hits.push(Self::hit(
                    span(expr),
                    &format!("`{path}` picks a free port and releases it"),
                    last(&path).contains("ipv6"),
                ));
            }
        }
        let syn::Expr::MethodCall(call) = expr else {
            return;
        };
        let method = call.method.to_string();
        let receiver = peel(&call.receiver);
        if method == "port" {
            if let syn::Expr::MethodCall(addr) = receiver {
                let bind = peel(&addr.receiver);
                if addr.method == "local_addr" && is_port_zero_bind(bind) {
                    hits.push(Self::hit(
                        span(receiver),
                        "the listener bound to port 0 is dropped once its port is read",
                        binds_v6(bind),
                    ));
                }
            }
        } else if matches!(method.as_str(), "is_ok" | "is_err")
            && !is_port_zero_bind(receiver)
            && callee(receiver).is_some_and(|(p, _)| last(&p) == "bind")
        {
            hits.push(Self::hit(
                span(receiver),
                "this bind only checks that the port is free and releases it",
                binds_v6(receiver),
            ));
        }
    }

    fn block(&self, _cx: &Cx<'_, '_>, block: &syn::Block, hits: &mut Vec<Hit>) {
        // `let l = bind(0); let port = l.local_addr().port(); drop(l);` (or the port returned
        // from the block that owns `l`), with `l` used for nothing else.
        for (at, stmt) in block.stmts.iter().enumerate() {
            let syn::Stmt::Local(local) = stmt else {
                continue;
            };
            let (syn::Pat::Ident(name), Some(init)) = (&local.pat, &local.init) else {
                continue;
            };
            if !is_port_zero_bind(peel(&init.expr)) {
                continue;
            }
            let mut uses = Uses {
                name: name.ident.to_string(),
                all: 0,
                local_addr: 0,
                drops: 0,
            };
            for later in &block.stmts[at + 1..] {
                syn::visit::Visit::visit_stmt(&mut uses, later);
            }
            let returned = match block.stmts.last() {
                Some(syn::Stmt::Expr(tail, None)) => {
                    let mut tail_uses = Uses {
                        name: uses.name.clone(),
                        all: 0,
                        local_addr: 0,
                        drops: 0,
                    };
                    syn::visit::Visit::visit_expr(&mut tail_uses, tail);
                    tail_uses.local_addr > 0
                }
                _ => false,
            };
            let only_asked = uses.local_addr > 0 && uses.all == uses.local_addr + uses.drops;
            if only_asked && (uses.drops > 0 || returned) {
                hits.push(Self::hit(
                    span(&init.expr),
                    "the listener bound to port 0 is only asked for its port, then dropped",
                    binds_v6(peel(&init.expr)),
                ));
            }
        }
    }
}

/// Whether a `bind(..)` call's address is IPv6.
fn binds_v6(bind: &syn::Expr) -> bool {
    callee(bind)
        .and_then(|(_, args)| args.first())
        .is_some_and(|addr| match peel(addr) {
            syn::Expr::Tuple(t) => t.elems.first().is_some_and(is_v6),
            addr => is_v6(addr),
        })
}

/// `bind("127.0.0.1:0")`, `bind(("127.0.0.1", 0))` or `bind(SocketAddr::new(ip, 0))`.
fn is_port_zero_bind(expr: &syn::Expr) -> bool {
    let Some((path, args)) = callee(expr) else {
        return false;
    };
    let Some(arg) = args.first().map(peel) else {
        return false;
    };
    last(&path) == "bind"
        && (string(arg).is_some_and(|s| literal_port(&s) == Some(0))
            || matches!(arg, syn::Expr::Tuple(t) if t.elems.len() == 2 && int(&t.elems[1]) == Some(0))
            || callee(arg).is_some_and(|(p, a)| {
                p.contains("SocketAddr") && a.iter().nth(1).and_then(int) == Some(0)
            }))
}

/// Counts the uses of a local, those that only ask for its address, and its `drop`s.
struct Uses {
    name: String,
    all: usize,
    local_addr: usize,
    drops: usize,
}

impl<'v> syn::visit::Visit<'v> for Uses {
    fn visit_expr(&mut self, expr: &'v syn::Expr) {
        if path_of(expr).is_some_and(|p| p == self.name) {
            self.all += 1;
        }
        if callee(expr).is_some_and(|(p, args)| {
            p == "drop"
                && args
                    .first()
                    .and_then(path_of)
                    .is_some_and(|a| a == self.name)
        }) {
            self.drops += 1;
        }
        if let syn::Expr::MethodCall(call) = expr {
            if call.method == "local_addr"
                && path_of(peel(&call.receiver)).is_some_and(|p| p == self.name)
            {
                self.local_addr += 1;
            }
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_macro(&mut self, mac: &'v syn::Macro) {
        for expr in crate::audit::index::macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }
}

/// How many sockets one test may open before it is heavy.
const HEAVY: u64 = 64;

/// `socket-heavy`: connects or binds inside a loop of many iterations.
pub(crate) struct SocketHeavy;

impl Detector for SocketHeavy {
    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        let opens = match expr {
            syn::Expr::Call(_) => {
                callee(expr).is_some_and(|(p, _)| matches!(last(&p), "connect" | "bind"))
            }
            syn::Expr::MethodCall(m) => m.method == "connect",
            _ => false,
        };
        let Some(count) = opens
            .then(|| cx.ancestors.iter().rev().find_map(|a| loop_count(a)))
            .flatten()
        else {
            return;
        };
        if count < HEAVY {
            return;
        }
        hits.push(Hit {
            span: span(expr),
            kind: Kind::SocketHeavy,
            message: format!(
                "opens {count} sockets at once: under `cargo test` tests of one binary share its \
                 open-file limit, and with several such tests at once (any runner) the machine's: \
                 too many open files"
            ),
            fix: format!("`#[isolated(max_sockets = {})]`: the test waits for its share of a machine-wide socket budget (count both ends of local connections)", count * 2),
            fixed_by: &["max_sockets"],
        });
    }
}

/// The iterations of `for _ in 0..N` or `(0..N).map(..)`, from literal bounds.
fn loop_count(expr: &syn::Expr) -> Option<u64> {
    let range = match expr {
        syn::Expr::ForLoop(f) => &f.expr,
        syn::Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "map" | "for_each" | "flat_map"
            ) =>
        {
            &m.receiver
        }
        _ => return None,
    };
    match peel(range) {
        syn::Expr::Range(r) => {
            let start = r.start.as_deref().map_or(Some(0), int)?;
            let end = int(r.end.as_deref()?)?;
            Some(end.saturating_sub(start))
        }
        _ => None,
    }
}
