//! The audit's two outputs: JSON Lines for machines, and findings grouped by file for people.

use super::{Audit, Kind};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// One JSON object per finding, one per line.
#[must_use]
pub fn json_lines(audit: &Audit) -> String {
    audit
        .findings
        .iter()
        .filter_map(|f| serde_json::to_string(f).ok())
        .map(|line| line + "\n")
        .collect()
}

/// Findings grouped by file, each with its source line, why and the fix, then the counts per
/// kind. `root` is where the files' relative paths start, to show the snippets.
#[must_use]
pub fn human(root: &Path, audit: &Audit) -> String {
    let mut out = String::new();
    let mut by_file: BTreeMap<&str, Vec<&super::Finding>> = BTreeMap::new();
    for finding in &audit.findings {
        by_file.entry(&finding.file).or_default().push(finding);
    }
    let mut texts = Texts {
        root,
        read: BTreeMap::new(),
    };
    for (file, findings) in &by_file {
        let _ = writeln!(
            out,
            "{file}: {} finding{}",
            findings.len(),
            plural(findings.len())
        );
        let mut shown = BTreeSet::new();
        // A test's call of a helper that offends on several lines is one entry with each
        // cause under it: the snippet, why and fix are the same.
        for same in findings.chunk_by(|a, b| one_entry(a, b)) {
            let f = same[0];
            let grouped = f.module.as_deref().zip(f.module_fix.as_deref());
            if let Some((module, fix)) = grouped {
                if shown.insert(module) {
                    group_header(&mut out, findings, module, fix);
                }
            }
            let in_fn = f
                .test
                .as_deref()
                .map_or(String::new(), |t| format!(" in `{t}`"));
            let causes: Vec<&super::Place> = same.iter().filter_map(|f| f.cause.as_ref()).collect();
            let via = if f.via.is_empty() || causes.is_empty() {
                String::new()
            } else {
                // Several places are listed with their lines below, but in a group's line.
                let places = if causes.len() > 1 && grouped.is_none() {
                    format!("{} places", causes.len())
                } else {
                    let places: Vec<String> = causes
                        .iter()
                        .map(|c| format!("{}:{}:{}", c.file, c.line, c.column))
                        .collect();
                    places.join(", ")
                };
                format!(
                    " via `{}`{} ({places})",
                    f.via.join("` → `"),
                    if f.guess.is_some() { " (guessed)" } else { "" },
                )
            };
            let _ = writeln!(out, "  {}:{}: {}{in_fn}{via}", f.line, f.column, f.kind);
            // A group's findings are one line each: its header said why and how to fix them.
            if grouped.is_some() {
                continue;
            }
            if let Some(line) = texts.line(file, f.line) {
                let _ = writeln!(out, "    | {}", line.trim_end());
                let pad = line
                    .chars()
                    .take(f.column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect::<String>();
                let _ = writeln!(out, "    | {pad}^");
            }
            for cause in &causes {
                if let Some(line) = texts.line(&cause.file, cause.line) {
                    let place = if causes.len() > 1 {
                        format!("({}:{}:{}) ", cause.file, cause.line, cause.column)
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "    cause: {place}{}", line.trim());
                }
            }
            if let Some(guess) = &f.guess {
                let _ = writeln!(out, "    guessed: {guess}");
            }
            let _ = writeln!(out, "    why: {}", f.message);
            let _ = writeln!(out, "    fix: {}", f.fix);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} finding{} in {} file{} read",
        audit.findings.len(),
        plural(audit.findings.len()),
        audit.files,
        plural(audit.files)
    );
    for kind in Kind::ALL {
        let n = audit.findings.iter().filter(|f| f.kind == kind).count();
        if n > 0 {
            let _ = writeln!(out, "  {kind:<15} {n}");
        }
    }
    out
}

/// Whether `b` is shown in `a`'s entry: the same call of the same test through the same
/// helpers, for the same reason and fix, only the offending line differs.
fn one_entry(a: &super::Finding, b: &super::Finding) -> bool {
    !a.via.is_empty()
        && a.cause.is_some()
        && b.cause.is_some()
        && (&a.file, a.line, a.column, a.kind, &a.test, &a.via)
            == (&b.file, b.line, b.column, b.kind, &b.test, &b.via)
        && (&a.message, &a.fix, &a.guess, &a.module) == (&b.message, &b.fix, &b.guess, &b.module)
}

/// Says once what one attribute on `module` fixes, with why for each kind in it: its
/// findings follow with their places only.
fn group_header(out: &mut String, findings: &[&super::Finding], module: &str, fix: &str) {
    let members: Vec<&&super::Finding> = findings
        .iter()
        .filter(|f| f.module.as_deref() == Some(module))
        .collect();
    let mut kinds: BTreeMap<Kind, (usize, &str)> = BTreeMap::new();
    for f in &members {
        kinds.entry(f.kind).or_insert((0, &f.message)).0 += 1;
    }
    let counts: Vec<String> = kinds
        .iter()
        .map(|(kind, (n, _))| format!("{kind} {n}"))
        .collect();
    let name = module.rsplit("::").next().unwrap_or(module);
    let _ = writeln!(
        out,
        "  mod {module}: one `{fix}` on `mod {name}` fixes all {} ({}); a test's own \
         `#[isolated]` combines with it",
        members.len(),
        counts.join(", ")
    );
    for (_, message) in kinds.values() {
        let _ = writeln!(out, "    why: {message}");
    }
}

/// The files' texts, each read once, by path relative to `root`.
struct Texts<'a> {
    root: &'a Path,
    read: BTreeMap<String, String>,
}

impl Texts<'_> {
    /// Line `n` (1-based) of `file`.
    fn line(&mut self, file: &str, n: usize) -> Option<String> {
        let root = self.root;
        let text = self
            .read
            .entry(file.to_owned())
            .or_insert_with(|| std::fs::read_to_string(root.join(file)).unwrap_or_default());
        text.lines().nth(n.checked_sub(1)?).map(str::to_owned)
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
