//! A run-wide fixture under the real runners, not a stand-in: a small crate generated in a temp
//! dir (three test binaries, one `Fixture` whose init appends a line to a count file and starts
//! a `sleep 300` server through `Setup::spawn`), run by `cargo test`, by `cargo nextest run`, and
//! by two `cargo test` at once. Each run must init exactly once, and its server and run
//! directory must be gone within seconds of the runner's exit.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use isolate::isolated;
use support::{running, within};

/// The generated crate's fixture and its tests. `E2E_COUNT` is the count file;
/// `E2E_BARRIER=n` makes an init wait until `n` inits have started, which proves that
/// concurrent runs overlap (one shared instance would never see the second line).
const COMMON: &str = r#"
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub pid: u32,
}

fn start(setup: &mut isolate::Setup) -> Result<Server, isolate::InitError> {
    let server = setup.spawn(Command::new("sleep").arg("300"))?;
    let count = std::env::var("E2E_COUNT")?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&count)?
        .write_all(format!("{} {}\n", std::process::id(), server.pid()).as_bytes())?;
    if let Ok(n) = std::env::var("E2E_BARRIER") {
        let n: usize = n.parse()?;
        let start = Instant::now();
        while std::fs::read_to_string(&count)?.lines().count() < n {
            if start.elapsed() > Duration::from_secs(60) {
                return Err(format!("{n} inits never overlapped").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(Server { pid: server.pid() })
}

pub static SERVER: isolate::Fixture<Server> = isolate::Fixture::new("e2e-server", start);

pub fn check() {
    let server = SERVER.get().unwrap();
    assert!(std::path::Path::new(&format!("/proc/{}", server.pid)).exists());
}
"#;

const BINARY: &str = "mod common;\n#[test]\nfn first() { common::check() }\n#[test]\nfn second() { common::check() }\n";

/// Writes the crate into `dir`, depending on this checkout's facade by absolute path.
fn generate(dir: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = format!(
        "[package]\nname = \"fixture-e2e\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [dependencies]\nisolate = {{ path = {:?} }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\n\
         [workspace]\n",
        repo.display().to_string()
    );
    fs::create_dir_all(dir.join("tests/common")).unwrap();
    fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    // The repository's lock file: the same versions, already downloaded, no index update.
    fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    fs::write(dir.join("tests/common/mod.rs"), COMMON).unwrap();
    for name in ["a", "b", "c"] {
        fs::write(dir.join(format!("tests/{name}.rs")), BINARY).unwrap();
    }
}

/// One inner runner invocation, clean of what the outer runner set for us: our suite itself
/// runs under `cargo nextest run`, whose variables would make the inner runner think it is a
/// test process of the outer run.
struct Inner<'a> {
    krate: &'a Path,
    target: &'a Path,
    isolate_dir: &'a Path,
    count: &'a Path,
}

impl Inner<'_> {
    fn cargo(&self, args: &[&str]) -> Command {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        for (name, _) in std::env::vars_os() {
            let text = name.to_string_lossy();
            if text.contains("NEXTEST") || text.starts_with("ISOLATE_") {
                command.env_remove(&name);
            }
        }
        command
            .args(args)
            .current_dir(self.krate)
            .env("CARGO_TARGET_DIR", self.target)
            .env("CARGO_TERM_COLOR", "never")
            .env("ISOLATE_DIR", self.isolate_dir)
            .env("E2E_COUNT", self.count)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// The inits so far: `(test process pid, server pid)`.
    fn inits(&self) -> Vec<(u32, u32)> {
        support::Log {
            path: self.count.to_owned(),
        }
        .pid_pairs()
    }

    /// Asserts that `count` inits happened since the count file was last cleared, and that
    /// each init's server and every run directory are gone within a few seconds (the watcher
    /// polls once a second and gives children 3 seconds after SIGTERM).
    fn assert_one_run_each(&self, what: &str, count: usize, outputs: &[Output]) {
        let inits = self.inits();
        let shown: Vec<String> = outputs.iter().map(support::text).collect();
        assert_eq!(inits.len(), count, "{what}: inits {inits:?}\n{shown:#?}");
        let runs = self.isolate_dir.join("runs");
        let gone = within(Duration::from_secs(8), || {
            inits.iter().all(|&(_, server)| !running(server))
                && fs::read_dir(&runs).map_or(true, |mut entries| entries.next().is_none())
        });
        let left: Vec<u32> = inits
            .iter()
            .map(|&(_, server)| server)
            .filter(|&pid| running(pid))
            .collect();
        assert!(
            gone,
            "{what}: servers still running {left:?}, run dirs {:?}",
            fs::read_dir(&runs).map(|e| e.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
        );
        println!("{what}: inits {inits:?}, all gone after the run");
        fs::remove_file(self.count).unwrap();
    }
}

fn nextest_available() -> bool {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Builds real test binaries, so one run of this suite at a time (another worktree has its own
/// target dir): the serial group holds across processes, under both runners.
#[test]
#[isolated(serial = "isolate-real-runners", timeout = "10m")]
fn one_init_per_real_run_and_nothing_left_after_it() {
    let krate = tempfile::tempdir().unwrap();
    let isolate_dir = support::private_root();
    let count: PathBuf = isolate_dir.path().join("count");
    // Shared across runs of this test: only the three tiny test binaries are rebuilt.
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixture-e2e");
    generate(krate.path());
    let inner = Inner {
        krate: krate.path(),
        target: &target,
        isolate_dir: isolate_dir.path(),
        count: &count,
    };
    support::run(&mut inner.cargo(&["test", "-q", "--no-run"]), true);

    let output = support::run(&mut inner.cargo(&["test", "-q"]), true);
    inner.assert_one_run_each("cargo test", 1, &[output]);

    if nextest_available() {
        let output = support::run(
            &mut inner.cargo(&["nextest", "run", "--no-fail-fast"]),
            true,
        );
        inner.assert_one_run_each("cargo nextest run", 1, &[output]);
    } else {
        println!("skipped the `cargo nextest run` part: `cargo nextest` is not installed");
    }

    let mut both: Vec<_> = (0..2)
        .map(|_| {
            inner
                .cargo(&["test", "-q"])
                .env("E2E_BARRIER", "2")
                .spawn()
                .expect("start cargo")
        })
        .collect();
    let outputs: Vec<Output> = both
        .drain(..)
        .map(|child| child.wait_with_output().unwrap())
        .collect();
    for output in &outputs {
        assert!(output.status.success(), "{}", support::text(output));
    }
    inner.assert_one_run_each("two concurrent cargo test", 2, &outputs);
}
