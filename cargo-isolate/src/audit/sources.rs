//! Which files hold a package's tests.

use std::path::{Path, PathBuf};

/// A Rust file to audit.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its path.
    pub path: PathBuf,
    /// Under `tests/`: every fn is test code. Elsewhere only tests and `#[cfg(test)]` modules.
    pub all_test_code: bool,
}

/// The `.rs` files of a package (its `src/`, `tests/`, `examples/`, `benches/` and any other
/// folder), leaving out `target` folders and packages nested inside it.
#[must_use]
pub fn test_files(package_dir: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    walk(package_dir, package_dir, &mut files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<Source>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            let nested_package = path.join("Cargo.toml").exists();
            if !name.starts_with('.') && name != "target" && !nested_package {
                walk(root, &path, files);
            }
        } else if name.ends_with(".rs") {
            let all_test_code = path
                .strip_prefix(root)
                .is_ok_and(|p| p.starts_with("tests"));
            files.push(Source {
                path,
                all_test_code,
            });
        }
    }
}
