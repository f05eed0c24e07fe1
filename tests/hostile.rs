//! Hostile machines CI users really have: a process out of file descriptors, a temp directory
//! that cannot be used. What fails says what, where and what to do, and leaves nothing behind.

mod support;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use isolate::Spec;

/// [`support::child`] in the isolate directory `root`, under `sh` after `limits` (`ulimit`s):
/// a child that opens files until it runs out does so in a few hundred opens whatever the
/// machine's limit, and one with a file size limit of 0 sees a full disk.
fn child_under(test: &str, role: &str, root: &Path, limits: &str) -> Command {
    let inner = support::child(test, role);
    let mut command = Command::new("sh");
    command
        .args(["-c", &format!("{limits} && exec \"$0\" \"$@\"")])
        .arg(inner.get_program())
        .args(inner.get_args())
        .env(support::ROLE, role)
        .env(isolate::env::DIR, root);
    command
}

/// What is in `dir` but the prune marker: the files and directories left there.
fn left_in(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("list what is left")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != ".pruned")
        .collect()
}

/// A temp dir is made, then opened to be locked: a process out of file descriptors makes it
/// and cannot lock it. The test fails with the reason, and the directory, which nobody else
/// knows the name of, goes with it instead of staying for days until a prune.
#[test]
fn a_temp_dir_that_cannot_be_locked_is_removed() {
    if support::role().as_deref() == Some("out-of-files") {
        // The first call validates the root and prunes, both needing descriptors; the second's
        // `mkdir` needs none, and its lock is the first open to fail.
        drop(isolate::TmpDir::new().expect("a temp dir while descriptors are left"));
        let mut held = Vec::new();
        while let Ok(file) = fs::File::open("/dev/null") {
            held.push(file);
        }
        let error = isolate::TmpDir::new().expect_err("no descriptor is left to lock it");
        drop(held);
        assert!(
            error.to_string().contains("cannot lock the temp dir"),
            "{error}"
        );
        return;
    }
    let root = support::private_root();
    support::run(
        &mut child_under(
            "a_temp_dir_that_cannot_be_locked_is_removed",
            "out-of-files",
            root.path(),
            "ulimit -n 256",
        ),
        true,
    );
    assert_eq!(left_in(&root.path().join("tmp")), Vec::<String>::new());
}

/// A child's record is written under a draft name, then renamed: on a full disk the write
/// fails, the child is stopped and `spawn` says why, and the draft goes too (nothing would
/// ever remove it: sweepers read only records).
#[test]
fn a_child_record_that_cannot_be_written_leaves_no_draft() {
    if support::role().as_deref() == Some("full-disk") {
        let error = isolate::Child::spawn(Command::new("sleep").arg("60"))
            .expect_err("the record cannot be written");
        assert!(
            error.to_string().contains("cannot write the child record"),
            "{error}"
        );
        return;
    }
    let root = support::private_root();
    // Ignored, `SIGXFSZ` leaves a write past the size limit failing (`EFBIG`), as on a full disk.
    support::run(
        &mut child_under(
            "a_child_record_that_cannot_be_written_leaves_no_draft",
            "full-disk",
            root.path(),
            "trap '' XFSZ && ulimit -f 0",
        ),
        true,
    );
    assert_eq!(left_in(&root.path().join("children")), Vec::<String>::new());
}

/// The temp dir a child in `cwd` with `TMPDIR=tmpdir` gets, or why it gets none.
fn temp_dir_with_tmpdir(tmpdir: &str, cwd: &Path) -> String {
    let output = support::run(
        support::child("temp_dir_where_tmpdir_says", "tmpdir")
            .env("TMPDIR", tmpdir)
            .env_remove(isolate::env::DIR)
            .current_dir(cwd),
        true,
    );
    support::text(&output)
}

#[test]
fn temp_dir_where_tmpdir_says() {
    if support::role().as_deref() == Some("tmpdir") {
        match isolate::TmpDir::new() {
            Ok(dir) => println!("made {}", dir.path().display()),
            Err(error) => println!("config {}: {error}", error.is_config()),
        }
    }
}

/// `TMPDIR=""` (a CI variable set to nothing) means `/tmp`, as for `mktemp`: not the working
/// directory, which would put an isolate directory in the source tree of every crate of a
/// workspace, each crate's tests with their own locks.
#[test]
fn an_empty_tmpdir_means_tmp() {
    let cwd = tempfile::tempdir().expect("a working directory");
    let made = temp_dir_with_tmpdir("", cwd.path());
    assert!(made.contains("made /tmp/isolate-"), "{made}");
    assert_eq!(left_in(cwd.path()), Vec::<String>::new());
}

/// A relative `TMPDIR` would give processes in different working directories different
/// isolate directories, whose groups do not exclude each other: refused, naming the variable
/// and the fix, and nothing is made in the working directory.
#[test]
fn a_relative_tmpdir_is_refused() {
    let cwd = tempfile::tempdir().expect("a working directory");
    let refused = temp_dir_with_tmpdir("ci-tmp", cwd.path());
    assert!(
        refused.contains("config true") && refused.contains("`TMPDIR=\"ci-tmp\"`"),
        "{refused}"
    );
    assert!(refused.contains("ISOLATE_DIR"), "{refused}");
    assert_eq!(left_in(cwd.path()), Vec::<String>::new());
}

/// Does `what` (a temp dir, a child, a group, permits of the budget, a reserved number) once,
/// and lets go of it.
fn make(what: &str) -> Result<(), isolate::Error> {
    static SERIAL: Spec = Spec::new("hostile::serial").serial(&["hostile-removed"]);
    static SHARED: Spec = Spec::new("hostile::shared").shared(&["hostile-removed"]);
    static BUDGET: Spec = Spec::new("hostile::budget").max_sockets(1);
    match what {
        "tmpdir" => isolate::TmpDir::new().map(drop),
        "child" => isolate::Child::spawn(&mut Command::new("true")).map(drop),
        "serial" => isolate::try_enter(&SERIAL).map(drop),
        "shared" => isolate::try_enter(&SHARED).map(drop),
        "budget" => isolate::try_enter(&BUDGET).map(drop),
        "reserved" => isolate::ReservedPort::reserve().map(drop),
        _ => unreachable!("{what}"),
    }
}

/// In a child with a private root, makes `what` `times` times while a thread removes the root
/// again and again (`rm -rf` of the isolate directory while tests run, a temp cleaner): every
/// file and directory is made again, as lock files are, and no test fails with "No such file
/// or directory".
fn made_while_the_root_is_removed(test: &str, what: &str, times: usize) {
    match support::role() {
        None => {}
        Some(role) if role == what => return make_while_removed(what, times),
        Some(_) => return,
    }
    let root = support::private_root();
    support::run(
        support::child(test, what).env(isolate::env::DIR, root.path().join("root")),
        true,
    );
}

fn make_while_removed(what: &str, times: usize) {
    let root = std::path::PathBuf::from(std::env::var_os(isolate::env::DIR).expect("a root"));
    let stop = Arc::new(AtomicBool::new(false));
    let remover = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = fs::remove_dir_all(&root);
            }
        })
    };
    let failed: Vec<String> = (0..times)
        .filter_map(|_| make(what).err().map(|e| e.to_string()))
        .collect();
    stop.store(true, Ordering::Relaxed);
    remover.join().expect("the remover");
    assert!(
        failed.is_empty(),
        "{} failed, first: {}",
        failed.len(),
        failed[0]
    );
}

#[test]
fn temp_dirs_are_made_while_the_root_is_removed() {
    made_while_the_root_is_removed(
        "temp_dirs_are_made_while_the_root_is_removed",
        "tmpdir",
        2000,
    );
}

#[test]
fn children_are_recorded_while_the_root_is_removed() {
    made_while_the_root_is_removed(
        "children_are_recorded_while_the_root_is_removed",
        "child",
        300,
    );
}

#[test]
fn groups_are_entered_while_the_root_is_removed() {
    made_while_the_root_is_removed(
        "groups_are_entered_while_the_root_is_removed",
        "serial",
        1000,
    );
    made_while_the_root_is_removed(
        "groups_are_entered_while_the_root_is_removed",
        "shared",
        1000,
    );
}

#[test]
fn permits_are_taken_while_the_root_is_removed() {
    made_while_the_root_is_removed(
        "permits_are_taken_while_the_root_is_removed",
        "budget",
        1000,
    );
}

#[test]
fn numbers_are_reserved_while_the_root_is_removed() {
    made_while_the_root_is_removed(
        "numbers_are_reserved_while_the_root_is_removed",
        "reserved",
        1000,
    );
}
