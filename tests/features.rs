//! `isolate` without its default `fixture` feature: a crate that asks for a fixture anyway gets
//! an error that says how to turn the feature on, on the binding it wrote, instead of rustc's
//! "cannot find function `fixture` in module `__private`" alone.
//!
//! Built for real, by cargo, in a crate generated in a temp dir: inside this workspace the
//! feature is always on (the facade's tests and the offender suite ask for it).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

const LIB: &str = "#[cfg(test)]
mod tests {
    static DB: u8 = 0;

    #[test]
    #[isolate::isolated(port, fixture(db = DB))]
    fn uses_the_database() {}
}
";

#[test]
fn fixture_without_the_feature_says_how_to_turn_it_on() {
    let krate = tempfile::tempdir().unwrap();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = format!(
        "[package]\nname = \"without-fixture\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dev-dependencies]\nisolate = {{ path = {:?}, default-features = false }}\n\n[workspace]\n",
        repo.display().to_string()
    );
    fs::write(krate.path().join("Cargo.toml"), manifest).unwrap();
    // The repository's lock file: the same versions, already downloaded, no index update.
    fs::copy(repo.join("Cargo.lock"), krate.path().join("Cargo.lock")).unwrap();
    fs::create_dir(krate.path().join("src")).unwrap();
    fs::write(krate.path().join("src/lib.rs"), LIB).unwrap();

    let output = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["check", "--tests", "--message-format", "short"])
        .current_dir(krate.path())
        // Kept between runs, like `tests/real_runners.rs`: the dependencies build once.
        .env("CARGO_TARGET_DIR", repo.join("target/without-fixture"))
        .env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it built:\n{stderr}");

    let (line, column) = LIB
        .lines()
        .enumerate()
        .find_map(|(n, text)| Some((n + 1, text.find("db = DB")? + 1)))
        .unwrap();
    let expected = format!(
        "src/lib.rs:{line}:{column}: error: `fixture(..)` needs the `fixture` feature of `isolate`"
    );
    assert!(
        stderr.lines().any(|error| error.starts_with(&expected)),
        "no `{expected}` in:\n{stderr}"
    );
    assert!(
        stderr.contains(r#"features = ["fixture"]"#),
        "the error shows how to turn it on:\n{stderr}"
    );
}
