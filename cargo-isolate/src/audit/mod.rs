//! `cargo isolate audit`: reads every test of a package with syn and reports what its tests
//! share that they must not, with the `#[isolated(...)]` argument that fixes it. Of the
//! library's own code it reads only the statics set from the environment once per process
//! (`once.rs`), which the tests that change the environment must not share.

mod detect;
mod finding;
mod group;
mod index;
mod kind;
mod methods;
mod modules;
mod once;
mod reach;
mod receivers;
mod report;
mod sources;
mod walk;

pub use finding::{Finding, Place};
pub use kind::Kind;
pub use report::{human, json_lines};
pub use sources::{test_files, Source};

use index::Index;
use modules::{FileId, FnId, Links, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    let mut parsed = Vec::new();
    for source in files {
        let label = source
            .path
            .strip_prefix(root)
            .unwrap_or(&source.path)
            .display()
            .to_string();
        match std::fs::read_to_string(&source.path) {
            Ok(text) => match syn::parse_file(&text) {
                Ok(file) => parsed.push(Parsed {
                    label,
                    path: source.path.clone(),
                    file,
                    all_test_code: source.all_test_code,
                }),
                Err(error) => audit
                    .skipped
                    .push((label, format!("cannot parse: {error}"))),
            },
            Err(error) => audit.skipped.push((label, format!("cannot read: {error}"))),
        }
    }
    audit.files = parsed.len();
    audit.findings = audit_parsed(&parsed);
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
    let parsed = Parsed {
        label: label.to_owned(),
        path: PathBuf::from(label),
        file: syn::parse_file(text)?,
        all_test_code,
    };
    Ok(audit_parsed(&[parsed]))
}

/// A file read and parsed, with the name reports give it.
struct Parsed {
    label: String,
    path: PathBuf,
    file: syn::File,
    all_test_code: bool,
}

/// The offenders in `parsed`, by file, then line: each fn's own, and for each test those in
/// the helpers of other files it calls (`mod common;`, `#[cfg(test)] mod test_utils;`).
fn audit_parsed(parsed: &[Parsed]) -> Vec<Finding> {
    let mut indexes: Vec<Index<'_>> = parsed
        .iter()
        .map(|p| Index::new(&p.file, p.all_test_code))
        .collect();
    let paths: Vec<PathBuf> = parsed.iter().map(|p| p.path.clone()).collect();
    let all_test_code: Vec<bool> = parsed.iter().map(|p| p.all_test_code).collect();
    let links = Links::new(&indexes, &paths);
    let test_code = links.test_code(&indexes, &all_test_code);
    for (index, test_code) in indexes.iter_mut().zip(&test_code) {
        if *test_code {
            index.mark_test_code();
        }
    }
    let library_files: Vec<_> = (0..parsed.len())
        .filter(|&file| !test_code[file])
        .map(|file| {
            (
                file,
                paths[file].as_path(),
                &parsed[file].file,
                &indexes[file],
            )
        })
        .collect();
    let library = once::Library::new(&library_files);
    let mut run = Run {
        parsed,
        tree: Tree {
            indexes: &indexes,
            links: &links,
        },
        detectors: detect::all(),
        hits: BTreeMap::new(),
        found: vec![Vec::new(); parsed.len()],
        library,
    };
    let reached = run.through_helpers();
    run.own(&reached);
    run.found
        .into_iter()
        .flat_map(|mut findings| {
            findings.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)));
            findings.dedup_by(|a, b| order(&a.0) == order(&b.0));
            group::by_module(findings)
        })
        .collect()
}

/// One audit's state: the files, their module tree, the hits of each fn walked so far and the
/// findings of each file, each with the inline modules its fn is in.
struct Run<'a, 'ast> {
    parsed: &'a [Parsed],
    tree: Tree<'a, 'ast>,
    detectors: Vec<Box<dyn detect::Detector>>,
    hits: BTreeMap<FnId, Vec<detect::Hit>>,
    found: Vec<Vec<(Finding, Vec<String>)>>,
    library: once::Library,
}

impl Run<'_, '_> {
    /// Each test's offences in the helpers it calls (of its file or others), at its call.
    /// Returns the helpers so reached. Tests are known by their place, not their name: two
    /// tests of one name (`#[cfg(unix)]`, `#[cfg(windows)]`) are two.
    fn through_helpers(&mut self) -> BTreeSet<FnId> {
        let indexes = self.tree.indexes;
        let mut calls = reach::Calls::default();
        let mut reached_by_tests = BTreeSet::new();
        for (file, index) in indexes.iter().enumerate() {
            let mut once_tests = Vec::new();
            for (at, test) in index.fns.iter().enumerate() {
                if !test.is_test || !test.in_scope {
                    continue;
                }
                let detectors = &self.detectors;
                let own = self
                    .hits
                    .entry((file, at))
                    .or_insert_with(|| walk::fn_hits(index, test, detectors));
                let mut writes =
                    own.iter().any(changes_environment) || once::sets_through_isolate(index, test);
                let mut reads = self.once_calls((file, at), None);
                for reached in calls.reached_by(&self.tree, (file, at)) {
                    let (helper_file, helper) = reached.node;
                    // A test called by another is reported on itself.
                    if indexes[helper_file].fns[helper].is_test {
                        continue;
                    }
                    reached_by_tests.insert(reached.node);
                    reads.extend(self.once_calls(reached.node, Some(&reached)));
                    let detectors = &self.detectors;
                    let hits = self.hits.entry(reached.node).or_insert_with(|| {
                        let index = &indexes[helper_file];
                        walk::fn_hits(index, &index.fns[helper], detectors)
                    });
                    writes |= hits.iter().any(changes_environment)
                        || once::sets_through_isolate(
                            &indexes[helper_file],
                            &indexes[helper_file].fns[helper],
                        );
                    for hit in hits.iter().filter(|hit| !fixed(test, hit)) {
                        let finding = Finding {
                            via: reached.via.clone(),
                            cause: Some(place(self.parsed, helper_file, hit.span)),
                            guess: reached.guess.clone(),
                            ..finding(place(self.parsed, file, reached.at), hit, &test.name)
                        };
                        self.found[file].push((finding, test.module.clone()));
                    }
                }
                once_tests.push((test, writes, reads));
            }
            self.once_per_process(file, &once_tests);
        }
        reached_by_tests
    }

    /// The library's environment-once statics that the calls of `node` reach, each with the
    /// calls from the test (`reached`, or none when `node` is the test).
    fn once_calls(&self, node: FnId, reached: Option<&reach::Reached>) -> Vec<OnceRead> {
        let index = &self.tree.indexes[node.0];
        let func = &index.fns[node.1];
        let in_library_crate = !self.parsed[node.0].all_test_code;
        let mut found = Vec::new();
        for (path, at) in &func.call_sites {
            for call in self.library.called(index, func, path, in_library_crate) {
                let mut via = reached.map_or_else(Vec::new, |r| r.via.clone());
                via.push(path.join("::"));
                let guesses = reached.and_then(|r| r.guess.clone()).into_iter();
                let guesses: Vec<String> = guesses.chain(call.guess).collect();
                found.push(OnceRead {
                    static_at: call.static_at,
                    at: reached.map_or(*at, |r| r.at),
                    via,
                    guess: (!guesses.is_empty()).then(|| guesses.join("; ")),
                });
            }
        }
        found
    }

    /// `fresh_process` for each test of `file` that changes the environment and reaches a
    /// static the library reads from it once per process; `env(read)` for each that only
    /// reaches one, when others of the file change it. `tests` are `(test, changes the
    /// environment, what it reaches)`.
    fn once_per_process(
        &mut self,
        file: FileId,
        tests: &[(&index::FnInfo<'_>, bool, Vec<OnceRead>)],
    ) {
        let writers = tests.iter().any(|(_, writes, _)| *writes);
        for (test, writes, reads) in tests {
            let mut seen = BTreeSet::new();
            for read in reads.iter().filter(|r| seen.insert(r.static_at)) {
                let statics = &self.library.statics[read.static_at];
                let cause = place(self.parsed, statics.file, statics.at);
                let fn_name = read.via.last().map_or("", |p| reach_name(p));
                let hit = match (*writes, writers) {
                    (true, _) => once::writer(fn_name, &statics.name, &cause, read.at),
                    (false, true) => once::reader(fn_name, &statics.name, &cause, read.at),
                    (false, false) => continue,
                };
                if fixed(test, &hit) {
                    continue;
                }
                let finding = Finding {
                    via: read.via.clone(),
                    cause: Some(cause),
                    guess: read.guess.clone(),
                    ..finding(place(self.parsed, file, read.at), &hit, &test.name)
                };
                self.found[file].push((finding, test.module.clone()));
            }
        }
    }

    /// Each test's own offences unless it holds what fixes them, and those of each fn no test
    /// reaches (the others were reported on the tests that reach them).
    fn own(&mut self, reached: &BTreeSet<FnId>) {
        for (file, index) in self.tree.indexes.iter().enumerate() {
            for (at, f) in index.fns.iter().enumerate() {
                if !f.in_scope || (!f.is_test && reached.contains(&(file, at))) {
                    continue;
                }
                let own = self
                    .hits
                    .remove(&(file, at))
                    .unwrap_or_else(|| walk::fn_hits(index, f, &self.detectors));
                for hit in own.iter().filter(|hit| !(f.is_test && fixed(f, hit))) {
                    let at = place(self.parsed, file, hit.span);
                    self.found[file].push((finding(at, hit, &f.name), f.module.clone()));
                }
            }
            for (name, attrs) in &index.mods {
                for hit in walk::attr_hits(attrs, &self.detectors) {
                    let at = place(self.parsed, file, hit.span);
                    // Its own attribute: no group of the module's tests.
                    self.found[file].push((finding(at, &hit, name), Vec::new()));
                }
            }
        }
    }
}

fn place(parsed: &[Parsed], file: FileId, span: proc_macro2::Span) -> Place {
    Place {
        file: parsed[file].label.clone(),
        line: span.start().line,
        column: span.start().column + 1,
    }
}

/// The finding of `hit` at `at`, in the fn (or module) `within`.
fn finding(at: Place, hit: &detect::Hit, within: &str) -> Finding {
    Finding {
        file: at.file,
        line: at.line,
        column: at.column,
        kind: hit.kind,
        test: Some(within.to_owned()),
        message: hit.message.clone(),
        fix: hit.fix.clone(),
        via: Vec::new(),
        cause: None,
        guess: None,
        module: None,
        module_fix: None,
    }
}

/// Whether `test` already holds an argument that fixes `hit`.
fn fixed(test: &index::FnInfo<'_>, hit: &detect::Hit) -> bool {
    test.isolated
        .as_ref()
        .is_some_and(|args| hit.fixed_by.iter().any(|a| args.contains(*a)))
}

/// A test's call that reaches a static the library reads from the environment once per process.
struct OnceRead {
    static_at: usize,
    /// The test's first call on the way.
    at: proc_macro2::Span,
    via: Vec<String>,
    guess: Option<String>,
}

/// Whether a hit is a change of the process's environment (`set_var`, `temp_env::with_var`).
fn changes_environment(hit: &detect::Hit) -> bool {
    hit.kind == Kind::ProcessGlobal && hit.fixed_by == ["env"]
}

/// `settings` of the call `isolate_offenders::settings`.
fn reach_name(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// Findings of one file in report order; two that compare equal are one.
fn order(f: &Finding) -> (usize, usize, Kind, Option<&Place>) {
    (f.line, f.column, f.kind, f.cause.as_ref())
}
