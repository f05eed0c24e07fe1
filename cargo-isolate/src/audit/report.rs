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
    for (file, findings) in &by_file {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
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
            let _ = writeln!(out, "  {}:{}: {}{in_fn}", f.line, f.column, f.kind);
            if let Some(line) = lines.get(f.line.wrapping_sub(1)) {
                let _ = writeln!(out, "    | {}", line.trim_end());
                let pad = line
                    .chars()
                    .take(f.column - 1)
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect::<String>();
                let _ = writeln!(out, "    | {pad}^");
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

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
