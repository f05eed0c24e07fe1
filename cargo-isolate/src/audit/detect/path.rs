//! `fixed-path`: a literal or fixed path that tests write.

use super::{callee, last, path_of, peel, span, string, Cx, Detector, Hit};
use crate::audit::Kind;

/// Fns whose first argument is a path they write.
const WRITERS: &[&str] = &[
    "write",
    "create",
    "create_dir",
    "create_dir_all",
    "remove_file",
    "remove_dir_all",
    "rename",
];

pub(crate) struct FixedPath;

impl FixedPath {
    fn hit(at: proc_macro2::Span, what: &str) -> Hit {
        Hit {
            span: at,
            kind: Kind::FixedPath,
            message: format!(
                "{what} is the same for every test: under `cargo test` tests of this binary, under \
                 nextest or two runs at once any two processes, write it at once and read each \
                 other's data"
            ),
            fix: "`#[isolated(tmpdir)]`: write under `tmpdir.path()`, a fresh directory per test, kept on failure".to_owned(),
            fixed_by: &["tmpdir", "serial"],
        }
    }
}

impl Detector for FixedPath {
    fn expr(&self, cx: &Cx<'_, '_>, expr: &syn::Expr, hits: &mut Vec<Hit>) {
        if let Some(text) = string(expr).filter(|_| matches!(expr, syn::Expr::Lit(_))) {
            let padded = text.trim() != text;
            if !padded
                && (text == "/tmp" || text.starts_with("/tmp/") || text.starts_with("/var/tmp/"))
                && (touches_files(cx) || given_to_file_op(cx))
            {
                hits.push(Self::hit(span(expr), &format!("`{text}`")));
            }
            return;
        }
        if let syn::Expr::MethodCall(call) = expr {
            let Some(arg) = call.args.first() else { return };
            if call.method == "join" && string(arg).is_some() {
                if let Some(base) = fixed_base(peel(&call.receiver)) {
                    hits.push(Self::hit(
                        span(arg),
                        &format!("`{base}` joined with a literal"),
                    ));
                }
            }
            return;
        }
        if let Some((path, args)) = callee(expr) {
            let path = cx.index.resolve(&path);
            let relative = args
                .first()
                .and_then(string)
                .filter(|p| !p.starts_with('/') && !p.is_empty());
            if let (true, Some(file)) = (
                WRITERS.contains(&last(&path)) && (path.contains("fs") || path.contains("File")),
                relative,
            ) {
                hits.push(Self::hit(
                    span(&args[0]),
                    &format!("the relative path `{file}` (in the shared working directory)"),
                ));
            }
        }
    }
}

/// Fns and methods that read or write the file system at a path they are given.
const FILE_OPS: &[&str] = &[
    "write",
    "create",
    "create_new",
    "create_dir",
    "create_dir_all",
    "remove_file",
    "remove_dir",
    "remove_dir_all",
    "rename",
    "copy",
    "open",
    "read",
    "read_to_string",
    "read_dir",
    "hard_link",
    "symlink",
    "set_permissions",
    "set_current_dir",
    "current_dir",
];

/// Whether the fn being walked uses the file system itself: anything of `fs`, `File`,
/// `OpenOptions`, `Command` or `tempfile`, or a file operation's name. A `/tmp` literal in a fn
/// that does not is data (an event's path, a parser's input; seen on notify), unless it is
/// handed to a file operation.
fn touches_files(cx: &Cx<'_, '_>) -> bool {
    let paths = cx.func.call_sites.iter().map(|(path, _)| path);
    let methods = cx.func.method_sites.iter().map(|site| site.method.as_str());
    paths.into_iter().any(|path| {
        path.iter().any(|segment| {
            matches!(
                segment.as_str(),
                "fs" | "File" | "OpenOptions" | "DirBuilder" | "Command" | "tempfile"
            )
        }) || path
            .last()
            .is_some_and(|name| FILE_OPS.contains(&name.as_str()))
    }) || methods.into_iter().any(|name| FILE_OPS.contains(&name))
}

/// Whether the literal being checked is, through path constructors (`Path::new`,
/// `PathBuf::from`, `.join`), the argument of a file operation (`sled::open("/tmp/db")`).
fn given_to_file_op(cx: &Cx<'_, '_>) -> bool {
    for ancestor in cx.ancestors.iter().rev() {
        match ancestor {
            syn::Expr::Paren(_) | syn::Expr::Reference(_) => {}
            syn::Expr::MethodCall(call) => {
                let method = call.method.to_string();
                if FILE_OPS.contains(&method.as_str()) {
                    return true;
                }
                if !matches!(
                    method.as_str(),
                    "join" | "as_ref" | "to_path_buf" | "into" | "to_owned" | "to_string"
                ) {
                    return false;
                }
            }
            syn::Expr::Call(_) => {
                let Some((path, _)) = callee(ancestor) else {
                    return false;
                };
                if FILE_OPS.contains(&last(&path)) {
                    return true;
                }
                if !matches!(last(&path), "new" | "from") {
                    return false;
                }
            }
            _ => return false,
        }
    }
    false
}

/// `temp_dir()`, `current_dir()` or a path from `env!("CARGO_TARGET_TMPDIR")`: a directory
/// every test shares.
fn fixed_base(expr: &syn::Expr) -> Option<String> {
    match expr {
        syn::Expr::Macro(mac) if mac.mac.path.is_ident("env") => {
            let tokens = mac.mac.tokens.to_string();
            tokens
                .contains("CARGO_TARGET_TMPDIR")
                .then(|| "env!(\"CARGO_TARGET_TMPDIR\")".to_owned())
        }
        syn::Expr::Call(call) => {
            let path = path_of(&call.func)?;
            match last(&path) {
                "temp_dir" | "current_dir" => Some(format!("{path}()")),
                "from" | "new" => call.args.first().and_then(|a| fixed_base(peel(a))),
                _ => None,
            }
        }
        syn::Expr::MethodCall(call) if call.method == "join" => fixed_base(peel(&call.receiver)),
        _ => None,
    }
}
