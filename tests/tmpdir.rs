//! Temp dirs: removed on pass, kept with the path printed on failure (panic or `Err`), the
//! keep policy, pruning, and the refused-directory errors.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use isolate::isolated;
use support::Log;

/// Runs one of the child tests below with its own root and log; returns the output and the
/// directory the child recorded.
fn run_child(
    test: &str,
    envs: &[(&str, &str)],
    expect_success: bool,
) -> (String, String, tempfile::TempDir) {
    let root = support::private_root();
    let log = Log::new(root.path());
    let mut command = support::child_in(test, "run", root.path(), &log);
    for (name, value) in envs {
        command.env(name, value);
    }
    let output = support::text(&support::run(&mut command, expect_success));
    let dir = log.lines().first().cloned().unwrap_or_default();
    (output, dir, root)
}

fn record(dir: &Path) {
    fs::write(dir.join("evidence.txt"), "what the test wrote").unwrap();
    Log::from_env().append(&dir.display().to_string());
}

#[test]
#[ignore = "child process of the tests below"]
#[isolated(tmpdir)]
fn passes() {
    record(tmpdir.path());
}

#[test]
#[ignore = "child process of the tests below"]
#[isolated(tmpdir)]
fn panics() {
    record(tmpdir.path());
    panic!("the test failed");
}

#[test]
#[ignore = "child process of the tests below"]
#[isolated(tmpdir)]
fn returns_err() -> Result<(), String> {
    record(tmpdir.path());
    Err("the test failed".to_owned())
}

#[test]
#[ignore = "child process of the tests below"]
#[should_panic = "expected"]
#[isolated(tmpdir)]
fn panics_as_expected() {
    record(tmpdir.path());
    panic!("expected");
}

#[test]
#[ignore = "child process of the tests below"]
#[should_panic(expected = "expected")]
#[isolated(tmpdir)]
fn panics_with_another_message() {
    record(tmpdir.path());
    panic!("the test failed otherwise");
}

#[test]
fn a_passing_test_leaves_nothing() {
    let (_, dir, _root) = run_child("passes", &[], true);
    assert!(dir.contains("tmp/passes-"), "{dir}");
    assert!(!Path::new(&dir).exists());

    // `#[should_panic]`: the expected panic is a pass.
    let (_, dir, _root) = run_child("panics_as_expected", &[], true);
    assert!(!dir.is_empty() && !Path::new(&dir).exists(), "{dir}");
}

#[test]
fn a_failing_test_keeps_its_dir_and_prints_the_path() {
    // A `#[should_panic(expected = "..")]` test that panics with another message fails.
    for test in ["panics", "returns_err", "panics_with_another_message"] {
        let (output, dir, _root) = run_child(test, &[], false);
        assert!(
            output.contains(&format!(
                "isolate: kept the temp dir of failed test `{test}`: {dir}"
            )),
            "{output}"
        );
        assert_eq!(
            fs::read_to_string(Path::new(&dir).join("evidence.txt")).unwrap(),
            "what the test wrote"
        );
    }
}

#[test]
fn the_keep_policy_is_honoured() {
    let (_, dir, _root) = run_child("passes", &[(isolate::env::KEEP_TMPDIR, "always")], true);
    assert!(Path::new(&dir).join("evidence.txt").is_file());

    let (output, dir, _root) = run_child("panics", &[(isolate::env::KEEP_TMPDIR, "never")], false);
    assert!(!Path::new(&dir).exists());
    assert!(!output.contains("kept the temp dir"), "{output}");

    let (output, _, _root) =
        run_child("passes", &[(isolate::env::KEEP_TMPDIR, "sometimes")], false);
    assert!(
        output.contains("cannot parse `ISOLATE_KEEP_TMPDIR=sometimes`: expected one of `on-failure`, `always`, `never`"),
        "{output}"
    );
}

fn refused(root: &Path) -> String {
    let mut command = support::child("passes", "run");
    command
        .env(isolate::env::DIR, root)
        .env(support::LOG, root.with_extension("log"));
    support::text(&support::run(&mut command, false))
}

#[test]
fn an_unsafe_isolate_directory_is_refused_with_the_fix() {
    let parent = support::private_root();

    let open = parent.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let output = refused(&open);
    assert!(
        output.contains(&format!(
            "refusing `{0}`: its mode is 777, open to other users; run `chmod 700 {0}`",
            open.display()
        )),
        "{output}"
    );

    let link = parent.path().join("link");
    let target = parent.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let output = refused(&link);
    assert!(
        output.contains(&format!("refusing `{}`: it is a symlink", link.display())),
        "{output}"
    );
    assert!(
        output.contains("point `ISOLATE_DIR` at a directory you own with mode 0700"),
        "{output}"
    );

    // Someone else's directory: only root can make one to test with.
    let foreign = parent.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    fs::set_permissions(&foreign, fs::Permissions::from_mode(0o700)).unwrap();
    if std::os::unix::fs::chown(&foreign, Some(4242), None).is_ok() {
        let output = refused(&foreign);
        assert!(
            output.contains("it is owned by uid 4242, not by you"),
            "{output}"
        );
    }
}

#[test]
#[ignore = "child process of kept_dirs_are_pruned_when_old"]
fn prune() {
    let removed = isolate::prune_kept_dirs(std::time::Duration::from_hours(24)).unwrap();
    Log::from_env().append(&format!("removed {removed}"));
}

#[test]
fn kept_dirs_are_pruned_when_old() {
    let root = support::private_root();
    let tmp = root.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o700)).unwrap();
    let old = tmp.join(format!("tests.old-{}", "a".repeat(32)));
    let fresh = tmp.join(format!("tests.fresh-{}", "b".repeat(32)));
    let foreign = tmp.join("not-ours");
    for dir in [&old, &fresh, &foreign] {
        fs::create_dir(dir).unwrap();
    }
    let week_ago = std::time::SystemTime::now() - std::time::Duration::from_hours(24 * 7);
    for dir in [&old, &foreign] {
        fs::File::open(dir).unwrap().set_modified(week_ago).unwrap();
    }
    let log = Log::new(root.path());
    let mut command = support::child("prune", "run");
    // Automatic pruning is off here, so the count comes from the explicit call.
    command
        .env(isolate::env::DIR, root.path())
        .env(support::LOG, &log.path)
        .env(isolate::env::KEEP_DAYS, "0");
    support::run(&mut command, true);
    assert_eq!(log.lines(), ["removed 1"]);
    assert!(!old.exists() && fresh.exists() && foreign.exists());
}

#[test]
#[ignore = "child process of a_live_tests_dir_is_never_pruned"]
#[isolated(tmpdir)]
fn holds_an_old_dir() {
    record(tmpdir.path());
    // A fixture copied with `cp -a` or `touch -d`: the directory looks a week old.
    let week_ago = std::time::SystemTime::now() - std::time::Duration::from_hours(24 * 7);
    fs::File::open(tmpdir.path())
        .unwrap()
        .set_modified(week_ago)
        .unwrap();
    let log = Log::from_env();
    log.append("ready");
    log.wait_for("pruned", 1, std::time::Duration::from_secs(30));
    assert!(tmpdir.join("evidence.txt").is_file(), "pruned mid-test");
}

#[test]
fn a_live_tests_dir_is_never_pruned() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let mut holder = support::child_in("holds_an_old_dir", "run", root.path(), &log);
    holder
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let holder = holder.spawn().unwrap();
    log.wait_for("ready", 1, std::time::Duration::from_secs(30));
    let mut pruner = support::child_in("prune", "run", root.path(), &log);
    pruner.env(isolate::env::KEEP_DAYS, "0");
    support::run(&mut pruner, true);
    log.append("pruned");
    let output = holder.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", support::text(&output));
    assert!(
        log.lines().contains(&"removed 0".to_owned()),
        "{:?}",
        log.lines()
    );
}

#[test]
fn close_removes_the_dir_now() {
    let dir = isolate::TmpDir::new().unwrap();
    let path = dir.path().to_owned();
    fs::write(dir.join("f"), "x").unwrap();
    let other = dir.clone();
    dir.close().unwrap();
    assert!(!path.exists());
    // Another handle no longer removes or keeps anything, even on failure.
    other.mark_failed();
    drop(other);
    assert!(!path.exists());
}

#[test]
fn keep_on_a_clone_keeps_the_dir_for_every_handle() {
    let dir = isolate::TmpDir::new().unwrap();
    assert_eq!(dir.to_string(), dir.path().display().to_string());
    let kept = dir.clone().keep();
    drop(dir);
    assert!(kept.is_dir());
    fs::remove_dir(kept).unwrap();
}

#[test]
#[ignore = "child process of a_removed_temp_dirs_folder_is_made_again"]
fn outlives_its_folder() {
    let first = isolate::TmpDir::new().unwrap();
    let folder = first.path().parent().unwrap().to_owned();
    // A temp cleaner takes the whole folder while the run goes on.
    fs::remove_dir_all(&folder).unwrap();
    let second = isolate::TmpDir::new().unwrap();
    assert_eq!(second.path().parent(), Some(folder.as_path()));
    let mode = fs::metadata(&folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the folder is made again owner-only");
    Log::from_env().append("made again");
}

#[test]
fn a_removed_temp_dirs_folder_is_made_again() {
    let (_, made, _root) = run_child("outlives_its_folder", &[], true);
    assert_eq!(made, "made again");
}

#[test]
#[ignore = "child process of read_only_dirs_are_removed_and_symlinks_are_not_followed"]
#[isolated(tmpdir)]
fn leaves_read_only_dirs() {
    record(tmpdir.path());
    let outside = std::path::PathBuf::from(std::env::var(support::ROLE).unwrap());
    let deeper = tmpdir.join("sub/deeper");
    fs::create_dir_all(&deeper).unwrap();
    fs::write(deeper.join("file"), "x").unwrap();
    std::os::unix::fs::symlink(&outside, tmpdir.join("link")).unwrap();
    std::os::unix::fs::symlink(&outside, tmpdir.join("sub/link")).unwrap();
    // A test of permission errors: nothing below may be listed or changed any more.
    for (dir, mode) in [
        (deeper, 0o000),
        (tmpdir.join("sub"), 0o500),
        (tmpdir.path().to_owned(), 0o500),
    ] {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A passing test that left directories it cannot write into (or even list) still leaves
/// nothing behind, and the removal never goes through a symlink: the directory it points at
/// keeps its contents and its mode.
#[test]
fn read_only_dirs_are_removed_and_symlinks_are_not_followed() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let outside = root.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("precious"), "keep").unwrap();
    fs::set_permissions(&outside, fs::Permissions::from_mode(0o555)).unwrap();
    let mut command = support::child_in(
        "leaves_read_only_dirs",
        outside.to_str().unwrap(),
        root.path(),
        &log,
    );
    // Root ignores permissions: as root, the child runs as `nobody` in a root it owns.
    let uid = std::os::unix::fs::MetadataExt::uid(&fs::metadata(root.path()).unwrap());
    if uid == 0 {
        let nobody = 65_534;
        std::os::unix::fs::chown(root.path(), Some(nobody), Some(nobody)).unwrap();
        std::os::unix::process::CommandExt::uid(&mut command, nobody);
        std::os::unix::process::CommandExt::gid(&mut command, nobody);
    }
    let output = support::text(&support::run(&mut command, true));
    let dir = log.lines().first().cloned().unwrap_or_default();
    assert!(dir.contains("leaves_read_only_dirs-"), "{dir}\n{output}");
    assert!(!Path::new(&dir).exists(), "{dir} is left behind:\n{output}");
    assert_eq!(
        fs::read_to_string(outside.join("precious")).unwrap(),
        "keep"
    );
    let mode = fs::metadata(&outside).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o555, "the symlink's target was changed");
}

#[test]
#[ignore = "child process of what_cannot_be_removed_is_named"]
#[isolated(tmpdir)]
fn leaves_an_immutable_file() {
    record(tmpdir.path());
    let stuck = tmpdir.join("stuck");
    fs::write(&stuck, "x").unwrap();
    let status = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&stuck)
        .status();
    Log::from_env().append(&format!("immutable {}", status.is_ok_and(|s| s.success())));
}

/// What even a retry cannot remove (an immutable file: only root can make one, where the
/// filesystem has them) is named with its path, and the test still passes.
#[test]
fn what_cannot_be_removed_is_named() {
    let (output, dir, _root) = run_child("leaves_an_immutable_file", &[], true);
    let stuck = Path::new(&dir).join("stuck");
    let made = stuck.exists();
    let _ = std::process::Command::new("chattr")
        .arg("-i")
        .arg(&stuck)
        .status();
    if !made {
        return; // no immutable files here: nothing was left to name
    }
    assert!(
        output.contains(&format!(
            "isolate: cannot remove the temp dir of test `leaves_an_immutable_file`: {dir}: "
        )),
        "{output}"
    );
}

/// Names longer than a path component may be: the directory's name is cut short (so that a
/// Unix socket fits inside, see `migration_findings`), and the start of each name is kept.
#[test]
#[isolated(tmpdir(tmpdir, a_binding_whose_name_runs_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_end))]
fn a_test_whose_name_runs_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_end(
) {
    for dir in [tmpdir.path(), a_binding_whose_name_runs_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_end.path()] {
        assert!(dir.is_dir(), "{}", dir.display());
        let file_name = dir.file_name().unwrap().len();
        assert!(file_name <= 255, "{file_name} bytes");
    }
    let named = a_binding_whose_name_runs_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_and_on_end.path().file_name().unwrap().to_string_lossy().into_owned();
    assert!(named.starts_with("a_test_whose_na-a_bindin-"), "{named}");
}
