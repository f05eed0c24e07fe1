//! `cargo isolate` run as a command on small crates generated in a temp dir.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn generate(dir: &Path, test_file: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"generated\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    std::fs::write(dir.join("tests/pair.rs"), test_file).unwrap();
}

fn cargo_isolate(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-isolate"))
        .args(args)
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap()
}

fn json_lines(output: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `collides` holds a lock file of the crate's own for a second and fails when it finds it
/// held: two runs at once always overlap it; one runner alone never does.
const PAIR: &str = r#"
fn lock() -> std::path::PathBuf { std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("held") }

#[test]
fn collides() {
    let held = std::fs::OpenOptions::new().write(true).create_new(true).open(lock());
    assert!(held.is_ok(), "another test holds the lock file");
    std::thread::sleep(std::time::Duration::from_secs(1));
    std::fs::remove_file(lock()).unwrap();
}

#[test]
fn clean() {
    assert_eq!(1 + 1, 2);
}
"#;

#[test]
fn stress_reports_each_test_and_runner_and_gates_on_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), PAIR);
    let nextest = Command::new("cargo")
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let runners = if nextest {
        "test,nextest,concurrent"
    } else {
        eprintln!("cargo-nextest is missing: the nextest part of this test is skipped (`cargo install cargo-nextest --locked`)");
        "test,concurrent"
    };
    let output = cargo_isolate(
        dir.path(),
        &[
            "stress",
            "--runs",
            "2",
            "--load",
            "0",
            "--threads",
            "2",
            "--runner",
            runners,
            "--format",
            "json",
        ],
    );
    let lines = json_lines(&output.stdout);
    let line = |test: &str, runner: &str| {
        lines
            .iter()
            .find(|l| l["test"] == test && l["runner"] == runner)
            .unwrap_or_else(|| {
                panic!(
                    "no line for {test} under {runner}: {lines:#?}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                )
            })
    };
    for runner in runners.split(',') {
        let runs = if runner == "concurrent" { 4 } else { 2 };
        let clean = line("pair::clean", runner);
        assert_eq!(
            (clean["runs"].as_u64(), clean["failed"].as_u64()),
            (Some(runs), Some(0)),
            "{clean}"
        );
        assert_eq!(clean["kinds"], serde_json::json!({}));
        let collides = line("pair::collides", runner);
        assert_eq!(collides["runs"].as_u64(), Some(runs), "{collides}");
        if runner == "concurrent" {
            // One of the two runs at once finds the file held, every round.
            assert_eq!(collides["failed"].as_u64(), Some(2), "{collides}");
            assert_eq!(collides["kinds"], serde_json::json!({"wrong data": 2}));
        } else {
            assert_eq!(collides["failed"].as_u64(), Some(0), "{collides}");
        }
        assert!(
            collides["median_seconds"].as_f64().unwrap() >= 0.9,
            "{collides}"
        );
    }
    assert_eq!(
        output.status.code(),
        Some(1),
        "a rate above --max-rate 0 fails the run"
    );
}

#[test]
fn audit_prints_json_lines_denies_and_skips_unparsable_files() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        "#[test]\nfn t() {\n    std::env::set_var(\"A\", \"1\");\n}\n",
    );
    std::fs::write(dir.path().join("tests/broken.rs"), "fn (").unwrap();
    let output = cargo_isolate(dir.path(), &["audit", "--format", "json", "--deny"]);
    assert_eq!(output.status.code(), Some(1));
    let lines = json_lines(&output.stdout);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let finding = &lines[0];
    assert_eq!(
        (
            finding["file"].as_str(),
            finding["line"].as_u64(),
            finding["column"].as_u64()
        ),
        (Some("tests/pair.rs"), Some(3), Some(5))
    );
    assert_eq!(
        (finding["kind"].as_str(), finding["test"].as_str()),
        (Some("process-global"), Some("t"))
    );
    assert!(finding["fix"]
        .as_str()
        .unwrap()
        .contains("`#[isolated(env)]`"));
    assert!(finding["message"].as_str().unwrap().contains("nextest"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("skipped `tests/broken.rs`: cannot parse"),
        "{stderr}"
    );

    let human = cargo_isolate(dir.path(), &["audit"]);
    assert_eq!(human.status.code(), Some(0), "without --deny");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(
        text.contains("tests/pair.rs: 1 finding")
            && text.contains("    | ")
            && text.contains("process-global 1"),
        "{text}"
    );

    let usage = cargo_isolate(dir.path(), &["audit", "--format", "xml"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("[possible values: human, json]"));
}
