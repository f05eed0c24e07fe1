//! The audit's two outputs: JSON Lines for machines, and findings grouped by file for people.

use super::{Audit, Kind};
use std::collections::BTreeMap;
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
        for f in findings {
            let in_fn = f
                .test
                .as_deref()
                .map_or(String::new(), |t| format!(" in `{t}`"));
            let via = match &f.cause {
                Some(cause) if !f.via.is_empty() => format!(
                    " via `{}`{} ({}:{}:{})",
                    f.via.join("` → `"),
                    if f.guess.is_some() { " (guessed)" } else { "" },
                    cause.file,
                    cause.line,
                    cause.column
                ),
                _ => String::new(),
            };
            let _ = writeln!(out, "  {}:{}: {}{in_fn}{via}", f.line, f.column, f.kind);
            if let Some(line) = texts.line(file, f.line) {
                let _ = writeln!(out, "    | {}", line.trim_end());
                let pad = line
                    .chars()
                    .take(f.column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect::<String>();
                let _ = writeln!(out, "    | {pad}^");
            }
            if let Some(line) = f.cause.as_ref().and_then(|c| texts.line(&c.file, c.line)) {
                let _ = writeln!(out, "    cause: {}", line.trim());
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
