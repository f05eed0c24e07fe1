//! What migrating real suites that fight over the environment and the working directory
//! (dotenvy's, config-rs's, figment's `Jail`) showed, as tests: each failed before its fix.

use isolate::isolated;

/// A helper that joins a group and takes a temp dir, as a test's fixture-building code might.
#[isolated(serial = "real-env-moved-tmpdir", tmpdir)]
fn in_group_with_a_tmpdir(moved: &std::path::Path) {
    assert!(
        !tmpdir.path().starts_with(moved),
        "the helper's temp dir {} is under the TMPDIR the test set",
        tmpdir.path().display()
    );
}

/// Tests of code that writes temp files set `TMPDIR` (dotenvy's, tempfile's users'). In a fresh
/// process the runtime had not yet found its lock directory when the body ran, so it found it
/// under the test's `TMPDIR`: the groups and temp dirs of that process then lived apart from
/// every other process's, and `serial` excluded nobody across processes.
#[test]
#[isolated(env, fresh_process)]
fn a_fresh_env_test_that_moves_tmpdir_keeps_the_shared_lock_directory() {
    let moved = tempfile::tempdir().expect("create a temp dir");
    isolate::vars::remove(isolate::env::DIR).expect("env is held");
    isolate::vars::set("TMPDIR", moved.path()).expect("env is held");
    in_group_with_a_tmpdir(moved.path());
    let entries: Vec<_> = std::fs::read_dir(moved.path())
        .expect("read the moved TMPDIR")
        .flatten()
        .map(|entry| entry.path())
        .collect();
    assert!(
        entries.is_empty(),
        "isolate put its lock directory under the test's TMPDIR: {entries:?}"
    );
}
