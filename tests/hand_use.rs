//! The runtime without the attribute: a `Spec` built with its `const` builders, bindings taken
//! by name, and outcomes recorded through `finish` and `finish_termination`.

use std::process::{ExitCode, Termination};

use isolate::{Port, ReservedPort, Resource, Spec, TmpDir, UdpPort};

static SPEC: Spec = Spec::new("hand_use::by_name")
    .bind(Resource::Port, &["api", "admin"])
    .bind(Resource::Udp, &["gossip"])
    .bind(Resource::ReservedPort, &["child"])
    .bind(Resource::TmpDir, &["data"])
    .shared(&["hand-use"]);

#[test]
fn bindings_are_taken_by_name_and_type() {
    let mut guard = isolate::try_enter(&SPEC).unwrap();
    let admin: Port = guard.take("admin").unwrap();
    let api: Port = guard.take("api").unwrap();
    assert_ne!(api.port(), admin.port());
    let gossip: UdpPort = guard.take("gossip").unwrap();
    assert!(gossip.addr().ip().is_loopback());
    let child: ReservedPort = guard.take("child").unwrap();
    let (low, high) = isolate::reserved_port_band().unwrap();
    assert!((low..=high).contains(&child.port()));

    // A listener is moved out once; a second take says so instead of panicking.
    let again = guard.take::<Port>("api").unwrap_err();
    assert!(again.is_config(), "{again}");
    assert_eq!(
        again.to_string(),
        "`hand_use::by_name` binds no `api` of type `Port`, or it was taken already"
    );
    // The wrong type for a name is the same clear error, and leaves the binding in place.
    let wrong = guard.take::<UdpPort>("data").unwrap_err();
    assert!(
        wrong
            .to_string()
            .contains("binds no `data` of type `UdpPort`"),
        "{wrong}"
    );
    // A temp dir is a handle: the guard keeps its own to decide, at the end, whether it stays.
    let first: TmpDir = guard.take("data").unwrap();
    let second: TmpDir = guard.take("data").unwrap();
    assert_eq!(first.path(), second.path());
    let path = first.path().to_owned();
    drop((first, second));
    assert!(path.is_dir(), "the guard still holds the directory");
    drop(guard);
    assert!(
        !path.exists(),
        "a passing test's directory is removed with the guard"
    );
}

static TERMINATION: Spec = Spec::new("hand_use::termination").bind(Resource::TmpDir, &["data"]);

fn failing() -> impl Termination {
    Err::<(), _>("the test failed")
}

#[test]
fn an_opaque_termination_failure_keeps_the_dir() {
    let mut guard = isolate::enter(&TERMINATION);
    let data: TmpDir = guard.take("data").unwrap();
    let code = guard.finish_termination(failing());
    assert_eq!(code, ExitCode::FAILURE);
    let path = data.path().to_owned();
    drop(data);
    assert!(path.is_dir(), "a failed test's directory is kept");
    std::fs::remove_dir_all(&path).unwrap();

    let mut guard = isolate::enter(&TERMINATION);
    let data: TmpDir = guard.take("data").unwrap();
    assert_eq!(guard.finish_termination(()), ExitCode::SUCCESS);
    let path = data.path().to_owned();
    drop(data);
    assert!(!path.exists(), "a passing test's directory is removed");
}

#[test]
fn a_failing_exit_code_keeps_the_dir() {
    let mut guard = isolate::enter(&TERMINATION);
    let data: TmpDir = guard.take("data").unwrap();
    assert_eq!(guard.finish(ExitCode::from(3)), ExitCode::from(3));
    let path = data.path().to_owned();
    drop(data);
    assert!(path.is_dir(), "a failing exit code keeps the directory");
    std::fs::remove_dir_all(&path).unwrap();
}
