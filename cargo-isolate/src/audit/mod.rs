//! `cargo isolate audit`: reads every test of a package with syn and reports what its tests
//! share that they must not, with the `#[isolated(...)]` argument that fixes it.

mod detect;
mod finding;
mod index;
mod kind;
mod report;
mod sources;
mod walk;

pub use finding::Finding;
pub use kind::Kind;
pub use report::{human, json_lines};
pub use sources::{test_files, Source};

use index::Index;
use std::path::Path;

/// What an audit found, and the files it could not read.
#[derive(Debug, Default)]
pub struct Audit {
    /// The offenders, by file, then line.
    pub findings: Vec<Finding>,
    /// `(file, why)` for each file that could not be read or parsed.
    pub skipped: Vec<(String, String)>,
    /// How many files were read.
    pub files: usize,
}

/// The stack the audit runs on: syn and the walk recurse once per level of nesting, and tests
/// nest expressions a thousand levels deep (the pages are only touched when used).
const STACK: usize = 1 << 30;

/// Audits the given files; `root` is what reported paths are relative to.
#[must_use]
pub fn audit_files(root: &Path, files: &[Source]) -> Audit {
    let (root, files) = (root.to_path_buf(), files.to_vec());
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || audit_on_this_thread(&root, &files))
        .ok()
        .and_then(|thread| thread.join().ok())
        .unwrap_or_default()
}

fn audit_on_this_thread(root: &Path, files: &[Source]) -> Audit {
    let mut audit = Audit::default();
    for source in files {
        let label = source
            .path
            .strip_prefix(root)
            .unwrap_or(&source.path)
            .display()
            .to_string();
        match std::fs::read_to_string(&source.path) {
            Ok(text) => match audit_source(&label, &text, source.all_test_code) {
                Ok(findings) => {
                    audit.files += 1;
                    audit.findings.extend(findings);
                }
                Err(error) => audit
                    .skipped
                    .push((label, format!("cannot parse: {error}"))),
            },
            Err(error) => audit.skipped.push((label, format!("cannot read: {error}"))),
        }
    }
    audit
}

/// The offenders in one file's text. `all_test_code` for files under `tests/` (every fn is
/// test code), else only tests and `#[cfg(test)]` modules are read.
///
/// ```
/// let found = cargo_isolate::audit::audit_source(
///     "tests/t.rs",
///     "#[test] fn t() { std::net::TcpListener::bind(\"127.0.0.1:8080\").unwrap(); }",
///     true,
/// ).unwrap();
/// assert_eq!(found[0].kind, cargo_isolate::audit::Kind::FixedPort);
/// assert_eq!((found[0].line, found[0].column), (1, 46));
/// ```
///
/// # Errors
/// When the text is no Rust file.
pub fn audit_source(label: &str, text: &str, all_test_code: bool) -> syn::Result<Vec<Finding>> {
    let file = syn::parse_file(text)?;
    let index = Index::new(&file, all_test_code);
    let detectors = detect::all();
    let mut findings = Vec::new();
    let mut found = |hit: detect::Hit, within: &str| {
        let start = hit.span.start();
        findings.push(Finding {
            file: label.to_owned(),
            line: start.line,
            column: start.column + 1,
            kind: hit.kind,
            test: Some(within.to_owned()),
            message: hit.message,
            fix: hit.fix,
        });
    };
    for f in index.fns.iter().filter(|f| f.in_scope) {
        let reaching = index.tests_reaching(&f.name);
        for hit in walk::fn_hits(&index, f, &detectors) {
            // Already migrated: every test that reaches this code holds what fixes it.
            let fixed = !reaching.is_empty()
                && reaching.iter().all(|t| {
                    t.isolated
                        .as_ref()
                        .is_some_and(|args| hit.fixed_by.iter().any(|a| args.contains(*a)))
                });
            if !fixed {
                found(hit, &f.name);
            }
        }
    }
    for (name, attrs) in &index.mods {
        for hit in walk::attr_hits(attrs, &detectors) {
            found(hit, name);
        }
    }
    findings.sort_by_key(|f| (f.line, f.column, f.kind));
    findings.dedup_by_key(|f| (f.line, f.column, f.kind));
    Ok(findings)
}
