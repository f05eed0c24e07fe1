//! A fresh directory per test: removed when the test passes, kept (path printed) when it fails.
//!
//! `cargo run --example scratch_files` writes a few files into a temp dir;
//! `cargo test --example scratch_files` runs its tests.

use std::fs;
use std::path::Path;

/// Appends `entry` to the journal in `dir` and returns the journal's lines.
fn append_journal(dir: &Path, entry: &str) -> std::io::Result<Vec<String>> {
    let journal = dir.join("journal.log");
    let mut text = fs::read_to_string(&journal).unwrap_or_default();
    text.push_str(entry);
    text.push('\n');
    fs::write(&journal, &text)?;
    Ok(text.lines().map(str::to_owned).collect())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = isolate::TmpDir::new()?;
    append_journal(dir.path(), "first")?;
    let lines = append_journal(dir.path(), "second")?;
    println!(
        "{} holds {lines:?}; it is removed when `dir` drops",
        dir.path().display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isolate::isolated;

    // Both tests write `journal.log`; with a fixed directory they would read each other's lines.
    #[test]
    #[isolated(tmpdir)]
    fn journal_starts_empty() {
        assert_eq!(append_journal(tmpdir.path(), "only").unwrap(), ["only"]);
    }

    #[test]
    #[isolated(tmpdir)]
    fn journal_keeps_order() {
        append_journal(tmpdir.path(), "a").unwrap();
        assert_eq!(append_journal(tmpdir.path(), "b").unwrap(), ["a", "b"]);
    }

    // Returning `Err` fails the test, and the directory is kept for inspection too.
    #[test]
    #[isolated(tmpdir(input, output))]
    fn copies_between_dirs() -> std::io::Result<()> {
        fs::write(input.path().join("data"), "payload")?;
        fs::copy(input.path().join("data"), output.path().join("data"))?;
        assert_eq!(fs::read_to_string(output.path().join("data"))?, "payload");
        Ok(())
    }
}
