//! Builds the test binaries once, with cargo's JSON messages, and lists their tests.

use crate::workspace::Error;
use cargo_metadata::{Message, TargetKind};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A test binary, as cargo built it.
#[derive(Debug, Clone)]
pub struct Binary {
    /// The target's name (`pair` of `tests/pair.rs`).
    pub target: String,
    /// nextest's binary id (`sample::pair`, or `sample` for the lib's unit tests).
    pub nextest_id: String,
    /// The executable.
    pub path: PathBuf,
    /// The tests it runs (ignored ones left out).
    pub tests: Vec<String>,
}

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildSpec {
    /// `--manifest-path`.
    pub manifest_path: Option<PathBuf>,
    /// `-p` for each.
    pub packages: Vec<String>,
    /// `--features`.
    pub features: Vec<String>,
    /// `--test` for each: only these integration test targets (all test targets when empty).
    pub tests: Vec<String>,
}

impl BuildSpec {
    /// The cargo arguments that choose the packages and features.
    pub(crate) fn cargo_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(path) = &self.manifest_path {
            args.extend(["--manifest-path".to_owned(), path.display().to_string()]);
        }
        for package in &self.packages {
            args.extend(["-p".to_owned(), package.clone()]);
        }
        if !self.features.is_empty() {
            args.extend(["--features".to_owned(), self.features.join(",")]);
        }
        for test in &self.tests {
            args.extend(["--test".to_owned(), test.clone()]);
        }
        args
    }
}

/// Builds the tests (`cargo test --no-run`) and lists each binary's tests with `filters`.
///
/// # Errors
/// When cargo cannot run or the build fails.
pub fn build(spec: &BuildSpec, filters: &[String]) -> Result<Vec<Binary>, Error> {
    let mut child = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(spec.cargo_args())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::failed(format!("cannot run cargo: {e}")))?;
    let mut binaries = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for message in Message::parse_stream(std::io::BufReader::new(stdout)).flatten() {
            let Message::CompilerArtifact(artifact) = message else {
                continue;
            };
            let (Some(path), true) = (artifact.executable, artifact.profile.test) else {
                continue;
            };
            let package = artifact.package_id.repr.clone();
            let package = package_name(
                &package,
                &artifact.target.src_path.clone().into_std_path_buf(),
            );
            let target = artifact.target.name.clone();
            let kind = artifact.target.kind.first().cloned();
            let nextest_id = match kind {
                Some(TargetKind::Test) => format!("{package}::{target}"),
                Some(TargetKind::Bin | TargetKind::Example | TargetKind::Bench) => {
                    format!(
                        "{package}::{}/{target}",
                        kind.map(|k| k.to_string()).unwrap_or_default()
                    )
                }
                // Library unit tests carry the package's name alone.
                _ => package,
            };
            let path = path.into_std_path_buf();
            let tests = list(&path, filters);
            binaries.push(Binary {
                target,
                nextest_id,
                path,
                tests,
            });
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::failed(format!("cannot run cargo: {e}")))?;
    if !status.success() {
        return Err(Error::failed("building the tests failed"));
    }
    binaries.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(binaries)
}

/// The package name from cargo's package id (`path+file:///x/sample#0.1.0`,
/// `path+file:///x/dir#name@0.1.0`, or `registry...#name@0.1.0`).
fn package_name(id: &str, _src: &Path) -> String {
    let fragment = id.rsplit('#').next().unwrap_or(id);
    match fragment.split_once('@') {
        Some((name, _)) => name.to_owned(),
        None => id
            .split('#')
            .next()
            .unwrap_or(id)
            .rsplit('/')
            .next()
            .unwrap_or(id)
            .to_owned(),
    }
}

/// The tests `binary` runs with `filters`, ignored ones left out.
fn list(binary: &Path, filters: &[String]) -> Vec<String> {
    let names = |ignored: bool| -> Vec<String> {
        let mut command = Command::new(binary);
        command.args(["--list", "--format", "terse"]).args(filters);
        if ignored {
            command.arg("--ignored");
        }
        command
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter_map(|l| l.strip_suffix(": test"))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let ignored = names(true);
    names(false)
        .into_iter()
        .filter(|n| !ignored.contains(n))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn package_names_from_ids() {
        let name = |id| super::package_name(id, std::path::Path::new(""));
        assert_eq!(name("path+file:///tmp/sample#0.1.0"), "sample");
        assert_eq!(
            name("path+file:///w/offenders#isolate-offenders@0.1.0"),
            "isolate-offenders"
        );
    }
}
