//! The detectors on our offender suite and on small positive and negative cases.

use cargo_isolate::audit::{audit_files, audit_source, human, json_lines, test_files, Audit, Kind};
use std::path::Path;

fn kinds(source: &str) -> Vec<Kind> {
    audit_source("tests/t.rs", source, true)
        .unwrap()
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

fn offender_files(prefix: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../offenders/tests");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    files.sort();
    files
}

#[test]
fn every_found_offender_file_is_reported_with_its_kinds() {
    let expected: &[(&str, &[Kind])] = &[
        (
            "found_admin.rs",
            &[Kind::FixedPath, Kind::ProcessLock, Kind::FixedPort],
        ),
        (
            "found_backup.rs",
            &[Kind::FixedPath, Kind::ProcessLock, Kind::FixedPort],
        ),
        // The database family's offence (a server started once per process) lives in
        // `database/found.rs`, read alone: see `the_database_family_is_found_and_its_migration_is_not`
        // and, on the tests that reach it, `the_database_family_is_reported_on_each_of_its_tests`.
        ("found_database_orders.rs", &[]),
        ("found_database_reports.rs", &[]),
        ("found_database_users.rs", &[]),
        // The offence is the library's once-per-process settings (`offenders/src/settings.rs`),
        // which a test file read alone does not show: what is reported here is the env writes
        // and `#[serial]`; the package read whole adds `fresh_process`, see
        // `the_once_per_process_family_gets_fresh_process`.
        ("found_global.rs", &[Kind::ProcessLock, Kind::ProcessGlobal]),
        ("found_heavy.rs", &[Kind::SocketHeavy]),
        ("found_persistence.rs", &[Kind::FixedPath]),
        (
            "found_process.rs",
            &[Kind::ProcessLock, Kind::ProcessGlobal],
        ),
        ("found_readiness.rs", &[Kind::SleepWait, Kind::FixedPort]),
        ("found_serial.rs", &[Kind::FixedPath, Kind::ProcessLock]),
        ("found_startup.rs", &[Kind::FixedPort, Kind::SleepWait]),
        ("found_tcp.rs", &[Kind::ReleasedPort, Kind::FixedPort]),
        ("found_udp.rs", &[Kind::FixedPort]),
        ("found_websocket.rs", &[Kind::FixedPort]),
    ];
    let files = offender_files("found_");
    assert_eq!(
        files.len(),
        expected.len(),
        "a new found_ file needs its row here"
    );
    for (file, (name, want)) in files.iter().zip(expected) {
        assert!(file.ends_with(name), "{file:?}");
        let found = kinds(&std::fs::read_to_string(file).unwrap());
        for kind in *want {
            assert!(found.contains(kind), "{name}: no {kind} in {found:?}");
        }
    }
}

#[test]
fn no_migrated_offender_file_is_reported() {
    let files = offender_files("migrated_");
    assert_eq!(
        files.len(),
        offender_files("found_").len(),
        "every offender is migrated"
    );
    for file in files {
        let found = audit_source("t.rs", &std::fs::read_to_string(&file).unwrap(), true).unwrap();
        assert!(found.is_empty(), "{file:?}: {found:#?}");
    }
}

#[test]
fn fixed_ports() {
    for source in [
        r#"#[test] fn t() { TcpListener::bind("127.0.0.1:3012").unwrap(); }"#,
        r#"#[test] fn t() { TcpStream::connect(("localhost", 8080)).unwrap(); }"#,
        "const PORT: u16 = 9000; #[test] fn t() { let a = SocketAddr::from(([127, 0, 0, 1], PORT)); TcpListener::bind(a); }",
        "#[test] fn t() { TcpListener::bind(SocketAddr::new(ip, 9000)); }",
        r#"const API_PORT: u16 = 9000; #[test] fn t() { get(&format!("http://127.0.0.1:{API_PORT}/")); }"#,
        "fn start(port: u16) {} #[test] fn t() { start(18_090); }",
    ] {
        assert_eq!(kinds(source), [Kind::FixedPort], "{source}");
    }
    for source in [
        // Bound to port 0 and used: the listener is held.
        r#"#[test] fn t() { serve(TcpListener::bind("127.0.0.1:0").unwrap()); }"#,
        // Migrated.
        "const PORT: u16 = 9000; #[test] #[isolated(port)] fn t() { TcpListener::bind((\"127.0.0.1\", PORT)); }",
        // A port nothing listens on, and bad input expected to fail.
        r#"#[test] fn t() { ready::tcp("127.0.0.1:1").wait(); connect("localhost:8080").unwrap_err(); }"#,
        // A parser under test: no bind, connect or request.
        r#"#[test] fn t() { parse("http://127.0.0.1:8080/health").unwrap(); }"#,
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn released_ports() {
    for source in [
        "#[test] fn t() { let p = portpicker::pick_unused_port().unwrap(); }",
        r#"fn pick() -> u16 { TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port() }"#,
        r#"fn pick() -> u16 { let l = TcpListener::bind("127.0.0.1:0").unwrap(); l.local_addr().unwrap().port() }"#,
        r#"fn pick() -> u16 { let l = TcpListener::bind("127.0.0.1:0").unwrap(); let p = l.local_addr().unwrap().port(); drop(l); p }"#,
        "fn free(p: u16) -> bool { TcpListener::bind((\"127.0.0.1\", p)).is_ok() }",
    ] {
        assert_eq!(kinds(source), [Kind::ReleasedPort], "{source}");
    }
    for source in [
        // Held while it is used.
        r#"#[test] fn t() { let l = TcpListener::bind("127.0.0.1:0").unwrap(); ready::tcp(l.local_addr().unwrap()).wait(); }"#,
        // Whether IPv6 works here, not a port.
        r#"#[test] fn t() { if TcpListener::bind("[::1]:0").is_ok() {} }"#,
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn fixed_paths() {
    for source in [
        r#"#[test] fn t() { std::fs::write("/tmp/out.txt", "x").unwrap(); }"#,
        r#"#[test] fn t() { let d = std::env::temp_dir().join("mine"); }"#,
        r#"#[test] fn t() { let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report"); }"#,
        r#"#[test] fn t() { std::fs::write("out.txt", "x").unwrap(); }"#,
    ] {
        assert_eq!(kinds(source), [Kind::FixedPath], "{source}");
    }
    for source in [
        r#"#[test] #[isolated(tmpdir)] fn t() { std::fs::write(tmpdir.path().join("out"), "x").unwrap(); }"#,
        r#"#[test] #[isolated(serial = "r")] fn t() { std::fs::write("/tmp/shared", "x").unwrap(); }"#,
        r#"#[test] fn t() { let s = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data")); }"#,
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn process_locks() {
    for source in [
        "#[test] #[serial] fn t() {}",
        "#[test] #[serial_test::parallel] fn t() {}",
        "static M: Mutex<()> = Mutex::new(()); #[test] fn t() { let _g = M.lock().unwrap(); }",
    ] {
        assert_eq!(kinds(source), [Kind::ProcessLock], "{source}");
    }
    for source in [
        "#[test] #[file_serial] fn t() {}",
        r#"#[test] #[isolated(serial = "g")] fn t() {}"#,
        "static M: OnceLock<u8> = OnceLock::new(); #[test] fn t() { M.get(); }",
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn sleep_waits() {
    let found = kinds("#[test] fn t() { spawn_server(); std::thread::sleep(Duration::from_secs(1)); TcpStream::connect(addr).unwrap(); }");
    assert_eq!(found, [Kind::SleepWait]);
    assert_eq!(
        kinds(
            "#[test] fn t() { connect(); std::thread::sleep(Duration::from_millis(5)); check(); }"
        ),
        []
    );
}

#[test]
fn process_globals() {
    for source in [
        r#"#[test] fn t() { std::env::set_var("A", "1"); }"#,
        r#"#[test] fn t() { std::env::remove_var("A"); }"#,
        "#[test] fn t() { std::env::set_current_dir(\"/\").unwrap(); }",
        "#[test] fn t() { env_logger::init(); }",
        "#[test] fn t() { env_logger::builder().is_test(true).init(); }",
        "#[test] fn t() { std::process::exit(0); }",
    ] {
        assert_eq!(kinds(source), [Kind::ProcessGlobal], "{source}");
    }
    for source in [
        "#[test] fn t() { let _ = env_logger::builder().is_test(true).try_init(); }",
        r#"#[test] #[isolated(env)] fn t() { std::env::set_var("A", "1"); }"#,
        "#[test] fn t() { let v = std::env::var(\"A\"); }",
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn fns_nested_in_a_test_are_read() {
    let source = r#"#[test] fn t() { fn serve() { TcpListener::bind("127.0.0.1:8080").unwrap(); } serve(); }"#;
    let found = audit_source("tests/t.rs", source, true).unwrap();
    assert_eq!(
        found
            .iter()
            .map(|f| (f.kind, f.test.as_deref(), f.via.clone()))
            .collect::<Vec<_>>(),
        [(Kind::FixedPort, Some("t"), vec!["serve".to_owned()])]
    );
    let migrated = r#"#[test] #[isolated(port)] fn t() { fn serve() { TcpListener::bind("127.0.0.1:8080").unwrap(); } serve(); }"#;
    assert_eq!(kinds(migrated), []);
}

#[test]
fn servers_started_once_per_process() {
    for source in [
        // A flag checked before starting (the offender suite's database).
        "static READY: AtomicBool = AtomicBool::new(false); \
         fn db() -> u16 { if READY.load(SeqCst) { return 1; } Command::new(\"db\").spawn().unwrap(); 1 } \
         #[test] fn t() { db(); }",
        // A cell's initialiser, with the command built over several statements.
        "static DB: OnceLock<Child> = OnceLock::new(); \
         #[test] fn t() { DB.get_or_init(|| { let mut c = Command::new(\"db\"); c.arg(\"-p\"); c.spawn().unwrap() }); }",
        // A fn a `Lazy` static is given, reached through another fn.
        "static DB: Lazy<Child> = Lazy::new(start); fn start() -> Child { launch() } \
         fn launch() -> Child { std::process::Command::new(\"db\").spawn().unwrap() } \
         #[test] fn t() { let _ = &*DB; }",
        "fn db() { INIT.call_once(|| { Command::new(\"db\").spawn().unwrap(); }); } #[test] fn t() { db(); }",
    ] {
        assert_eq!(kinds(source), [Kind::ProcessFixture], "{source}");
    }
    for source in [
        // A server per test: started and owned by the test.
        "#[test] fn t() { let mut c = Command::new(\"db\").spawn().unwrap(); c.kill().unwrap(); }",
        // A runtime's spawn inside a cell is no process.
        "static RT: OnceLock<Runtime> = OnceLock::new(); #[test] fn t() { RT.get_or_init(rt).spawn(work()); }",
        // Migrated: a run-wide fixture.
        "static DB: OnceLock<Child> = OnceLock::new(); \
         #[test] #[isolated(fixture(db = DATABASE))] fn t() { DB.get_or_init(|| Command::new(\"db\").spawn().unwrap()); }",
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

#[test]
fn the_database_family_is_found_and_its_migration_is_not() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../offenders/tests/database");
    let found = audit_source(
        "found.rs",
        &std::fs::read_to_string(dir.join("found.rs")).unwrap(),
        true,
    )
    .unwrap();
    assert_eq!(
        found.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [Kind::ProcessFixture],
        "{found:#?}"
    );
    assert!(
        found[0].fix.contains("fixture(db = DB)"),
        "{}",
        found[0].fix
    );
    let migrated = audit_source(
        "migrated.rs",
        &std::fs::read_to_string(dir.join("migrated.rs")).unwrap(),
        true,
    )
    .unwrap();
    assert!(migrated.is_empty(), "{migrated:#?}");
}

#[test]
fn socket_heavy_loops() {
    let heavy = "#[test] fn t() { let c: Vec<_> = (0..150).map(|_| TcpStream::connect(a).unwrap()).collect(); }";
    assert_eq!(kinds(heavy), [Kind::SocketHeavy]);
    let fix = &audit_source("t.rs", heavy, true).unwrap()[0].fix;
    assert!(fix.contains("max_sockets = 300"), "{fix}");
    assert_eq!(
        kinds("#[test] fn t() { for _ in 0..10 { TcpStream::connect(a).unwrap(); } }"),
        []
    );
}

#[test]
fn only_test_code_of_src_is_read_and_bad_files_are_errors() {
    let src = r#"fn serve() { TcpListener::bind("0.0.0.0:80"); TcpListener::bind("0.0.0.0:8080"); }
        #[cfg(test)] mod tests { #[test] fn t() { TcpListener::bind("127.0.0.1:8080"); } }"#;
    let found = audit_source("src/lib.rs", src, false).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].line, found[0].test.as_deref()), (2, Some("t")));
    assert!(audit_source("t.rs", "fn (", true).is_err());
}

/// Seen in tungstenite's tests: `use std::process::exit;` then `exit(1)` in a watchdog thread.
#[test]
fn calls_named_through_use_items_are_resolved() {
    for (source, kind) in [
        (
            "use std::{process::exit, thread::spawn}; #[test] fn t() { spawn(|| exit(1)); }",
            Kind::ProcessGlobal,
        ),
        (
            "use std::env::{self, set_current_dir as cd}; #[test] fn t() { cd(\"/\").unwrap(); }",
            Kind::ProcessGlobal,
        ),
        (
            "use std::fs::create_dir; #[test] fn t() { create_dir(\"child\").unwrap(); }",
            Kind::FixedPath,
        ),
    ] {
        assert_eq!(kinds(source), [kind], "{source}");
    }
    for source in [
        // The file's own fns, and another crate's, of the same names.
        "fn exit(code: i32) {} #[test] fn t() { exit(1); }",
        "use my::store::create_dir; #[test] fn t() { create_dir(\"child\"); }",
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
}

/// Seen in `serial_test`'s own tests: a static `Mutex<Vec<bool>>` the tests push to, locked for
/// one statement, shares data; it keeps no test apart, and a group would not replace it.
#[test]
fn a_static_lock_counts_when_its_guard_is_held_or_guards_nothing() {
    for source in [
        "static M: Mutex<Vec<u8>> = Mutex::new(Vec::new()); \
         #[test] fn t() { let mut held = M.lock().unwrap(); held.push(1); work(); }",
        "static M: RwLock<()> = RwLock::new(()); #[test] fn t() { let _r = M.read().unwrap_or_else(PoisonError::into_inner); }",
        "static M: Mutex<()> = Mutex::new(()); #[test] fn t() { M.lock().unwrap(); }",
    ] {
        assert_eq!(kinds(source), [Kind::ProcessLock], "{source}");
    }
    let shared_data = "static SEEN: Mutex<Vec<bool>> = Mutex::new(Vec::new()); \
        #[test] fn t() { SEEN.lock().unwrap().push(true); let n = SEEN.lock().unwrap().len(); assert!(n > 0); }";
    assert_eq!(kinds(shared_data), [], "{shared_data}");
}

/// Seen in `serial_test`'s own tests: every key becomes a group, and its options
/// (`crate = ..`, `inner_attrs = [..]`, `path => ..`) are no group names.
#[test]
fn serial_test_keys_become_groups_and_its_options_do_not() {
    for (source, want) in [
        (
            "#[test] #[serial(one, two)] fn t() {}",
            r#"serial = ["one", "two"]"#,
        ),
        (
            "#[test] #[serial(crate = serial_test)] fn t() {}",
            r#"serial = "default""#,
        ),
        (
            "#[test] #[serial(slt, inner_attrs = [ntest::timeout(5000)])] fn t() {}",
            r#"serial = "slt""#,
        ),
        (
            "#[test] #[parallel(ordering_key)] fn t() {}",
            r#"shared = "ordering_key""#,
        ),
    ] {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        assert_eq!(found.len(), 1, "{source}: {found:#?}");
        assert!(
            found[0].fix.starts_with(&format!("`#[isolated({want})]`")),
            "{source}: {}",
            found[0].fix
        );
    }
}

/// `serial_test` takes `#[serial]` on a module for all its tests, as `#[isolated]` does.
#[test]
fn serial_on_a_module_is_reported_on_the_module() {
    let source = "#[cfg(test)]\n#[serial(db)]\nmod db_tests {\n    #[test]\n    fn t() {}\n}\n";
    let found = audit_source("src/lib.rs", source, false).unwrap();
    assert_eq!(
        found
            .iter()
            .map(|f| (f.kind, f.line, f.test.as_deref()))
            .collect::<Vec<_>>(),
        [(Kind::ProcessLock, 2, Some("db_tests"))],
        "{found:#?}"
    );
    // Outside test code a module is not read.
    assert_eq!(
        audit_source("src/lib.rs", "#[serial] mod m {}", false).unwrap(),
        []
    );
}

/// Writes `files` (path, text) into a fresh temp dir and audits it as a package.
fn audit_tree(files: &[(&str, &str)]) -> (tempfile::TempDir, Audit) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let audit = audit_files(dir.path(), &test_files(dir.path()));
    assert!(audit.skipped.is_empty(), "{:?}", audit.skipped);
    (dir, audit)
}

/// `(file, test, kind, via, cause as file:line)` of each finding.
type Row = (String, String, Kind, Vec<String>, Option<String>);

fn rows(audit: &Audit) -> Vec<Row> {
    audit
        .findings
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.test.clone().unwrap_or_default(),
                f.kind,
                f.via.clone(),
                f.cause.as_ref().map(|c| format!("{}:{}", c.file, c.line)),
            )
        })
        .collect()
}

fn row(file: &str, test: &str, kind: Kind, via: &[&str], cause: Option<&str>) -> Row {
    (
        file.to_owned(),
        test.to_owned(),
        kind,
        via.iter().map(|s| (*s).to_owned()).collect(),
        cause.map(str::to_owned),
    )
}

const COMMON: &str = "use std::env;\n\
    pub fn setup() {\n    env::set_var(\"A\", \"1\");\n}\n\
    #[allow(dead_code)]\npub fn clean() {}\n";

/// Seen on dotenvy: `tests/common/mod.rs` sets variables and changes directory for every test.
/// The finding is each test's, at its call, with the helper's line as its cause.
#[test]
fn a_helper_in_tests_common_is_reported_on_each_test_that_calls_it() {
    let (dir, audit) = audit_tree(&[
        ("tests/common/mod.rs", COMMON),
        (
            "tests/a.rs",
            "mod common;\n#[test]\nfn one() {\n    common::setup();\n}\n",
        ),
        (
            "tests/b.rs",
            "mod common;\nuse common::*;\n#[test]\nfn two() {\n    clean();\n    setup();\n}\n\
             // Another target's fn of the same name is not followed from `a.rs`.\n\
             #[allow(dead_code)]\npub fn elsewhere() { std::env::remove_var(\"B\"); }\n",
        ),
    ]);
    assert_eq!(
        rows(&audit),
        [
            row(
                "tests/a.rs",
                "one",
                Kind::ProcessGlobal,
                &["common::setup"],
                Some("tests/common/mod.rs:3")
            ),
            row(
                "tests/b.rs",
                "two",
                Kind::ProcessGlobal,
                &["setup"],
                Some("tests/common/mod.rs:3")
            ),
            row("tests/b.rs", "elsewhere", Kind::ProcessGlobal, &[], None),
        ],
        "{:#?}",
        audit.findings
    );
    let first = &audit.findings[0];
    assert_eq!((first.line, first.column), (4, 5));
    assert!(first.fix.contains("`#[isolated(env)]`"), "{}", first.fix);

    let human = human(dir.path(), &audit);
    assert!(
        human.contains(
            "4:5: process-global in `one` via `common::setup` (tests/common/mod.rs:3:5)\n    \
             |     common::setup();"
        ) && human.contains("    cause: env::set_var(\"A\", \"1\");\n"),
        "{human}"
    );
    let json: Vec<serde_json::Value> = json_lines(&audit)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json[0]["via"], serde_json::json!(["common::setup"]));
    assert_eq!(
        json[0]["cause"],
        serde_json::json!({"file": "tests/common/mod.rs", "line": 3, "column": 5})
    );
    assert_eq!(
        (json[0]["test"].as_str(), json[0]["line"].as_u64()),
        (Some("one"), Some(4))
    );
    // A finding at its own place keeps the fields it always had, and no others.
    assert!(json[2].get("via").is_none() && json[2].get("cause").is_none());
}

/// Every way a test file names a helper of another file.
#[test]
fn calls_into_other_files_are_resolved_by_their_paths() {
    let offender = "pub fn f() { std::env::set_current_dir(\"/\").unwrap(); }\n";
    for (test_file, helper, via) in [
        (
            "mod common;\n#[test] fn t() { crate::common::f(); }",
            "tests/common/mod.rs",
            "crate::common::f",
        ),
        (
            "mod common;\nuse common::{f as g};\n#[test] fn t() { g(); }",
            "tests/common/mod.rs",
            "g",
        ),
        (
            "mod common;\nuse crate::common::f;\n#[test] fn t() { f(); }",
            "tests/common/mod.rs",
            "f",
        ),
        (
            "mod support;\n#[test] fn t() { support::f(); }",
            "tests/support.rs",
            "support::f",
        ),
        (
            "#[path = \"support/help.rs\"]\nmod help;\n#[test] fn t() { help::f(); }",
            "tests/support/help.rs",
            "help::f",
        ),
        (
            "mod support;\nmod tests { #[test] fn t() { super::support::f(); } }",
            "tests/support/mod.rs",
            "super::support::f",
        ),
        (
            "mod support;\n#[test] fn t() { self::support::f(); }",
            "tests/support/mod.rs",
            "self::support::f",
        ),
    ] {
        let (_dir, audit) = audit_tree(&[("tests/t.rs", test_file), (helper, offender)]);
        assert_eq!(
            rows(&audit),
            [row(
                "tests/t.rs",
                "t",
                Kind::ProcessGlobal,
                &[via],
                Some(&format!("{helper}:1"))
            )],
            "{test_file}: {:#?}",
            audit.findings
        );
    }
}

/// Helpers calling helpers, across files and back, recursively: each offence is the test's,
/// reached by the fewest calls, and the walk ends.
#[test]
fn helpers_are_followed_transitively_and_recursion_ends() {
    let (_dir, audit) = audit_tree(&[
        (
            "tests/t.rs",
            "mod support;\n#[test]\nfn t() { prepare(3); }\n\
             fn prepare(n: u32) { support::a(n); }\n",
        ),
        (
            "tests/support/mod.rs",
            "mod deep;\npub fn a(n: u32) { if n > 0 { b(n - 1); } }\n\
             fn b(n: u32) { a(n); deep::c(n); }\n",
        ),
        (
            "tests/support/deep.rs",
            "pub fn c(n: u32) { if n > 0 { super::a(n) } else { std::process::exit(1) } }\n",
        ),
    ]);
    assert_eq!(
        rows(&audit),
        [row(
            "tests/t.rs",
            "t",
            Kind::ProcessGlobal,
            &["prepare", "support::a", "b", "deep::c"],
            Some("tests/support/deep.rs:1")
        )],
        "{:#?}",
        audit.findings
    );
}

/// A test that holds what fixes the helper's offence is migrated, and so is the helper.
#[test]
fn a_test_holding_the_fix_is_not_reported_nor_its_helper() {
    let (_dir, audit) = audit_tree(&[
        ("tests/common/mod.rs", COMMON),
        (
            "tests/a.rs",
            "mod common;\n#[test]\n#[isolated(env)]\nfn one() { common::setup(); }\n",
        ),
        (
            "tests/b.rs",
            "mod common;\n#[test]\n#[isolated(cwd)]\nfn two() { common::setup(); }\n",
        ),
    ]);
    assert_eq!(
        rows(&audit),
        [row(
            "tests/b.rs",
            "two",
            Kind::ProcessGlobal,
            &["common::setup"],
            Some("tests/common/mod.rs:3")
        )],
        "{:#?}",
        audit.findings
    );
}

/// Unit tests in `src/`: a `#[cfg(test)] mod test_utils;` is test code as a whole, and a test
/// module's helpers call the parent module's test fns in another file.
#[test]
fn unit_tests_reach_test_utils_and_parent_modules_in_other_files() {
    let (_dir, audit) = audit_tree(&[
        (
            "src/lib.rs",
            "pub mod db;\n#[cfg(test)]\nmod test_utils;\n\
             pub fn serve() { std::net::TcpListener::bind(\"0.0.0.0:80\").unwrap(); }\n",
        ),
        (
            "src/test_utils.rs",
            "pub fn home() { std::env::set_var(\"HOME\", \"/nowhere\"); }\n",
        ),
        (
            "src/db/mod.rs",
            "#[cfg(test)]\nmod tests;\n\
             #[cfg(test)]\nfn fresh() { std::fs::write(\"/tmp/db\", \"\").unwrap(); }\n",
        ),
        (
            "src/db/tests.rs",
            "use crate::test_utils::home;\n\
             fn helper() { super::fresh(); home(); }\n\
             #[test]\nfn t() { helper(); crate::serve(); }\n",
        ),
    ]);
    assert_eq!(
        rows(&audit),
        [
            row(
                "src/db/tests.rs",
                "t",
                Kind::FixedPath,
                &["helper", "super::fresh"],
                Some("src/db/mod.rs:4")
            ),
            row(
                "src/db/tests.rs",
                "t",
                Kind::ProcessGlobal,
                &["helper", "home"],
                Some("src/test_utils.rs:1")
            ),
        ],
        "{:#?}",
        audit.findings
    );
}

/// The offender suite read whole, as `cargo isolate audit -p isolate-offenders` reads it.
fn offender_suite() -> Audit {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../offenders");
    audit_files(&dir, &test_files(&dir))
}

/// The offender suite's database family reaches its server through `#[path]` modules: the
/// finding is each test's, and no migrated test is reported.
#[test]
fn the_database_family_is_reported_on_each_of_its_tests() {
    let audit = offender_suite();
    let database: Vec<Row> = rows(&audit)
        .into_iter()
        .filter(|r| r.2 == Kind::ProcessFixture)
        .collect();
    let want: Vec<Row> = ["orders", "reports", "users"]
        .iter()
        .flat_map(|family| {
            ["a", "b"].map(|t| {
                row(
                    &format!("tests/found_database_{family}.rs"),
                    &format!("database_{family}_{t}"),
                    Kind::ProcessFixture,
                    &["found::database"],
                    Some("tests/database/found.rs:30"),
                )
            })
        })
        .collect();
    assert_eq!(database, want, "{:#?}", audit.findings);
    let migrated: Vec<_> = audit
        .findings
        .iter()
        .filter(|f| f.file.contains("migrated"))
        .collect();
    assert!(migrated.is_empty(), "{migrated:#?}");
}

const SERVERS: &str = "pub struct TestServer;\n\
    impl TestServer {\n\
    pub fn spawn() -> std::io::Result<Self> {\n\
    std::net::TcpListener::bind(\"127.0.0.1:8080\")?;\n\
    Ok(TestServer)\n}\n\
    pub fn start(&self) {\n    std::env::set_var(\"SERVER\", \"1\");\n}\n\
    pub fn restart(&self) {\n    self.start();\n}\n\
    }\n\
    pub struct Fixture;\n\
    impl Fixture {\n\
    pub fn new() -> Fixture {\n    std::fs::write(\"/tmp/fixture\", \"\").unwrap();\n    Fixture\n}\n\
    pub fn home(&self) {\n    std::env::set_var(\"HOME\", \"/x\");\n}\n\
    }\n\
    pub struct Other;\n\
    impl Other {\n    pub fn home(&self) {}\n}\n\
    pub struct Lone;\n\
    impl Lone {\n    pub fn only(&self) {\n    std::env::remove_var(\"X\");\n}\n}\n";

/// Method calls and associated fns of a helper type in another file are followed: by the type
/// where the test writes it (`Type::f`, `let s = Type::new(); s.f()`, `self.f()`), and by the
/// method's name alone only when no other helper method has it, which the finding says.
#[test]
fn helper_methods_in_other_files_are_followed_by_their_type() {
    let (dir, audit) = audit_tree(&[
        ("tests/common/mod.rs", SERVERS),
        (
            "tests/t.rs",
            "mod common;\nuse common::{Fixture, TestServer as Server};\n\
             #[test]\nfn spawned() {\n    let s = Server::spawn().unwrap();\n    s.start();\n}\n\
             #[test]\nfn fixture() {\n    Fixture::new().home();\n}\n\
             #[test]\nfn restarted() {\n    let s: common::TestServer = make();\n    s.restart();\n}\n\
             #[test]\nfn ambiguous(o: &dyn Any) {\n    o.home();\n    let v = Vec::new();\n    v.only();\n}\n\
             #[test]\nfn guessed() {\n    lone().only();\n}\n",
        ),
    ]);
    let common = |line: usize| Some(format!("tests/common/mod.rs:{line}"));
    let want: Vec<Row> = vec![
        row(
            "tests/t.rs",
            "spawned",
            Kind::FixedPort,
            &["Server::spawn"],
            None,
        ),
        row(
            "tests/t.rs",
            "spawned",
            Kind::ProcessGlobal,
            &["TestServer::start"],
            None,
        ),
        row(
            "tests/t.rs",
            "fixture",
            Kind::FixedPath,
            &["Fixture::new"],
            None,
        ),
        row(
            "tests/t.rs",
            "fixture",
            Kind::ProcessGlobal,
            &["Fixture::home"],
            None,
        ),
        row(
            "tests/t.rs",
            "restarted",
            Kind::ProcessGlobal,
            &["TestServer::restart", "TestServer::start"],
            None,
        ),
        row(
            "tests/t.rs",
            "guessed",
            Kind::ProcessGlobal,
            &["Lone::only"],
            None,
        ),
    ]
    .into_iter()
    .zip([4, 8, 17, 21, 8, 31])
    .map(|(mut r, line)| {
        r.4 = common(line);
        r
    })
    .collect();
    assert_eq!(rows(&audit), want, "{:#?}", audit.findings);
    let at = |test: &str| {
        audit
            .findings
            .iter()
            .filter(|f| f.test.as_deref() == Some(test))
            .map(|f| (f.line, f.column, f.guess.is_some()))
            .collect::<Vec<_>>()
    };
    assert_eq!(at("spawned"), [(5, 13, false), (6, 7, false)]);
    assert_eq!(at("fixture"), [(10, 5, false), (10, 20, false)]);
    assert_eq!(at("guessed"), [(25, 12, true)]);
    let guess = audit.findings.last().unwrap();
    assert!(
        guess
            .guess
            .as_deref()
            .unwrap()
            .contains("`Lone::only` is the only helper method"),
        "{guess:#?}"
    );
    let human = human(dir.path(), &audit);
    assert!(
        human.contains("in `guessed` via `Lone::only` (guessed) (tests/common/mod.rs:31:")
            && human.contains("    guessed: the receiver's type of `.only()` is not written"),
        "{human}"
    );
    let json = json_lines(&audit);
    assert_eq!(json.matches("\"guess\":").count(), 1, "{json}");
}

/// Seen on Figment: `#[cfg(any(test, feature = "test"))] mod jail;` ships in the library under a
/// feature (its `Jail` is what isolates its users' tests): it is no test code, and its fns are
/// neither reported nor followed. `all(test, ..)` is test code.
#[test]
fn only_cfgs_that_require_test_make_test_code() {
    let helper = "{ pub fn set() { std::env::set_var(\"A\", \"1\"); } }";
    for (cfg, reported) in [
        ("test", true),
        ("all(test, unix)", true),
        ("any(test, all(test, unix))", true),
        ("any(test, feature = \"test\")", false),
        ("not(test)", false),
        ("feature = \"test\"", false),
    ] {
        let source = format!("#[cfg({cfg})]\nmod jail {helper}\n");
        let found = audit_source("src/lib.rs", &source, false).unwrap();
        assert_eq!(!found.is_empty(), reported, "{cfg}: {found:#?}");
    }
}

/// Seen on notify and Figment: a `/tmp` literal that never reaches the file system (an event's
/// path, a value compared) is data. It counts in a fn that uses the file system, or where it is
/// handed to a file operation.
#[test]
fn a_tmp_literal_counts_only_where_files_are_used() {
    for source in [
        r#"#[test] fn t() { let p = PathBuf::from("/tmp/notify-unmount"); let e = unmount_event(p.clone()); assert_eq!(e.paths, vec![p]); }"#,
        r#"#[test] fn t() { info.insert(PathBuf::from("/tmp"), Watch { path: PathBuf::from("/tmp") }); }"#,
        r#"#[test] fn t() { assert_eq!(path.relative(), Path::new("/tmp/foo")); }"#,
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
    for source in [
        r#"#[test] fn t() { let db = sled::open("/tmp/db").unwrap(); db.flush(); }"#,
        r#"#[test] fn t() { let p = Path::new("/tmp/out"); std::fs::write(p, "x").unwrap(); }"#,
        r#"#[test] fn t() { let p = "/tmp/out"; let f = File::create(p).unwrap(); }"#,
        r#"#[test] fn t() { let p = "/tmp/x"; let mut c = Command::new("gen"); c.arg(p).status().unwrap(); }"#,
        r#"#[test] fn t() { Store::at(PathBuf::from("/var/tmp/s").join("a")).open(); }"#,
    ] {
        assert_eq!(kinds(source), [Kind::FixedPath], "{source}");
    }
}

/// Seen on rust-postgres: every test connects to a database on port 5433 that no test starts.
/// A port only connected to is reported with both cases: a server the tests start takes
/// `port`, an outside service a group; a port bound keeps the one fix.
#[test]
fn a_port_only_connected_to_names_both_fixes() {
    let fix = |source: &str| {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        assert_eq!(found.len(), 1, "{source}: {found:#?}");
        (found[0].message.clone(), found[0].fix.clone())
    };
    let (message, connect) =
        fix(r#"#[test] fn t() { let s = TcpStream::connect("127.0.0.1:5433").await.unwrap(); }"#);
    assert!(
        message.contains("only connected to here")
            && connect.contains("`#[isolated(port)]`")
            && connect.contains(r#"`#[isolated(serial = "5433")]`"#),
        "{message} / {connect}"
    );
    for source in [
        r#"#[test] fn t() { TcpListener::bind("127.0.0.1:5433").unwrap(); }"#,
        "#[test] fn t() { let a = SocketAddr::new(ip, 9000); start_server(a); }",
    ] {
        let (message, bind) = fix(source);
        assert!(
            !message.contains("only connected") && !bind.contains("serial"),
            "{source}: {message} / {bind}"
        );
    }
}

/// `(line, test, kind)` of each finding of `source`, a `src/lib.rs`.
fn lines(source: &str) -> Vec<(usize, String, Kind)> {
    audit_source("src/lib.rs", source, false)
        .unwrap()
        .into_iter()
        .map(|f| (f.line, f.test.unwrap_or_default(), f.kind))
        .collect()
}

/// Seen migrating `env_proxy`: `#[isolated(env)]` on `mod tests` holds for every test inside,
/// wherever it sits among the module's attributes and however deep the test is, and combines
/// with a test's own; it fixes only what it declares.
#[test]
fn an_isolated_module_fixes_what_it_declares_for_every_test_inside() {
    let body = "    fn scrub() {\n        std::env::remove_var(\"A\");\n    }\n    \
        #[test]\n    fn t() {\n        scrub();\n        std::env::set_var(\"A\", \"1\");\n    }\n";
    for source in [
        format!("#[cfg(test)]\n#[isolate::isolated(env)]\nmod tests {{\n{body}}}\n"),
        format!("#[isolated(env)]\n#[cfg(test)]\nmod tests {{\n{body}}}\n"),
        format!("#[cfg(test)]\nmod tests {{\n#[isolated(env)]\nmod inner {{\n{body}}}\n}}\n"),
        format!("#[cfg(test)]\n#[isolated(env)]\nmod tests {{\nmod inner {{\n{body}}}\n}}\n"),
        "#[cfg(test)]\n#[isolated(env)]\nmod tests {\n    #[test]\n    #[isolated(cwd)]\n    \
         fn t() {\n        std::env::set_var(\"A\", \"1\");\n        \
         std::env::set_current_dir(\"a\").unwrap();\n    }\n}\n"
            .to_owned(),
    ] {
        assert_eq!(lines(&source), [], "{source}");
    }
    let port = "#[cfg(test)]\n#[isolated(env)]\nmod tests {\n    #[test]\n    fn t() {\n        \
        std::net::TcpListener::bind(\"127.0.0.1:8080\").unwrap();\n    }\n}\n";
    assert_eq!(lines(port), [(6, "t".to_owned(), Kind::FixedPort)]);
}

/// `env(read)` declares a reader: a test that sets a variable under it still races with the
/// other readers, and is reported; `cwd(read)` alike.
#[test]
fn a_reader_that_writes_is_reported() {
    let source = "#[cfg(test)]\nmod tests {\n    #[test]\n    #[isolated(env(read))]\n    fn t() {\n        \
        std::env::set_var(\"A\", \"1\");\n    }\n    #[test]\n    #[isolated(cwd(read), env)]\n    \
        fn u() {\n        std::env::set_var(\"A\", \"1\");\n        \
        std::env::set_current_dir(\"a\").unwrap();\n    }\n}\n";
    assert_eq!(
        lines(source),
        [
            (6, "t".to_owned(), Kind::ProcessGlobal),
            (12, "u".to_owned(), Kind::ProcessGlobal)
        ]
    );
}

/// Seen on `which-rs`: `#[cfg(windows)] fn t` and `#[cfg(unix)] fn t` in one file are two tests;
/// migrating one does not leave it reported because of the other.
#[test]
fn tests_of_one_name_are_told_apart() {
    let source = "#[cfg(test)]\nmod tests {\n    #[test]\n    #[cfg(windows)]\n    fn t() {\n        \
        std::env::set_current_dir(\"a\").unwrap();\n    }\n    #[test]\n    #[cfg(unix)]\n    \
        #[isolated(cwd)]\n    fn t() {\n        std::env::set_current_dir(\"a\").unwrap();\n    }\n}\n";
    assert_eq!(lines(source), [(6, "t".to_owned(), Kind::ProcessGlobal)]);
}

const SCRUB: &str = "#[cfg(test)]\nmod tests {\n    use std::env::{remove_var, set_var};\n    \
    fn scrub_env() {\n        remove_var(\"A\");\n        remove_var(\"B\");\n    }\n    \
    #[test]\n    fn one() {\n        scrub_env();\n        set_var(\"A\", \"1\");\n    }\n    \
    #[test]\n    #[isolated(env)]\n    fn two() {\n        scrub_env();\n    }\n    \
    #[allow(dead_code)]\n    fn unused() {\n        set_var(\"C\", \"1\");\n    }\n}\n";

/// Seen on `env_proxy`: a helper of the same file is reported on each test that calls it, at its
/// call, with the helper's line as the cause, as helpers of other files are; a test that holds
/// the fix has none. A helper no test calls keeps its own findings.
#[test]
fn a_helper_of_the_same_file_is_reported_on_each_test_that_calls_it() {
    let (_dir, audit) = audit_tree(&[("src/lib.rs", SCRUB)]);
    let cause = |line| Some(format!("src/lib.rs:{line}"));
    let rows: Vec<_> = rows(&audit)
        .into_iter()
        .zip(&audit.findings)
        .map(|(row, f)| (f.line, row.1, row.3, row.4))
        .collect();
    let scrub = vec!["scrub_env".to_owned()];
    assert_eq!(
        rows,
        [
            (10, "one".to_owned(), scrub.clone(), cause(5)),
            (10, "one".to_owned(), scrub, cause(6)),
            (11, "one".to_owned(), vec![], None),
            (20, "unused".to_owned(), vec![], None),
        ],
        "{:#?}",
        audit.findings
    );
}

/// Seen on `env_proxy` (37 `set_var` lines): when one attribute on the module fixes every finding
/// in it, the report says so once; each JSON line names the module and that attribute.
#[test]
fn findings_one_module_attribute_fixes_are_grouped() {
    let (dir, audit) = audit_tree(&[("src/lib.rs", SCRUB)]);
    assert!(
        audit
            .findings
            .iter()
            .all(|f| f.module_fix.as_deref() == Some("#[isolated(env)]")
                && f.module.as_deref() == Some("tests")),
        "{:#?}",
        audit.findings
    );
    let text = human(dir.path(), &audit);
    assert_eq!(
        text.matches("one `#[isolated(env)]` on `mod tests` fixes all 4")
            .count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("why:").count(), 1, "{text}");
    let json = json_lines(&audit);
    assert_eq!(
        json.matches(r##""module":"tests","module_fix":"#[isolated(env)]""##)
            .count(),
        4,
        "{json}"
    );
    // A port beside them: no one attribute fixes the module.
    let mixed = SCRUB.replace(
        "set_var(\"C\", \"1\");",
        "std::net::TcpListener::bind(\"127.0.0.1:8080\").unwrap();",
    );
    let (_dir, audit) = audit_tree(&[("src/lib.rs", &mixed)]);
    assert!(audit.findings.iter().all(|f| f.module_fix.is_none()));
    // One finding is no group.
    let one = "#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        std::env::set_var(\"A\", \"1\");\n    }\n}\n";
    let (_dir, audit) = audit_tree(&[("src/lib.rs", one)]);
    assert_eq!(audit.findings.len(), 1);
    assert_eq!(audit.findings[0].module_fix, None);
}

/// Seen on `env_proxy`: `lazy_static!`, `once_cell` and `LazyLock` statics are locks like plain
/// statics; a lock whose tests change the environment or working directory is replaced by `env`
/// or `cwd` (in-process, restored), not by a group held across processes for nothing.
#[test]
fn lazy_locks_are_locks_and_env_locks_take_env() {
    for source in [
        "lazy_static! { static ref LOCK: Mutex<()> = Mutex::new(()); } \
         #[test] fn t() { let _l = LOCK.lock(); work(); }",
        "lazy_static::lazy_static! { pub static ref A: u8 = 1; static ref LOCK: Mutex<()> = Mutex::new(()); } \
         #[test] fn t() { let _l = LOCK.lock().unwrap(); work(); }",
        "static LOCK: Lazy<Mutex<()>> = Lazy::new(|| Mutex::new(())); \
         #[test] fn t() { let _l = LOCK.lock(); work(); }",
        "static LOCK: LazyLock<Mutex<()>> = LazyLock::new(Mutex::default); \
         #[test] fn t() { let _l = LOCK.lock(); work(); }",
    ] {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        assert_eq!(
            found.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::ProcessLock],
            "{source}"
        );
        assert!(found[0].fix.contains("serial = \"lock\""), "{source}");
    }
    for (source, want) in [
        (
            "lazy_static! { static ref LOCK: Mutex<()> = Mutex::new(()); } \
             fn scrub() { std::env::remove_var(\"A\"); } \
             #[test] fn t() { let _l = LOCK.lock(); scrub(); } \
             #[test] fn u() { let _l = LOCK.lock(); std::env::var(\"A\").ok(); }",
            "`#[isolated(env)]`",
        ),
        (
            "static LOCK: Mutex<()> = Mutex::new(()); \
             #[test] fn t() { let _l = LOCK.lock(); std::env::set_current_dir(\"a\").unwrap(); }",
            "`#[isolated(cwd)]`",
        ),
    ] {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        let locks: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::ProcessLock)
            .collect();
        assert!(!locks.is_empty(), "{source}");
        for lock in locks {
            assert!(
                lock.fix.starts_with(want) && !lock.fix.contains("serial"),
                "{source}: {}",
                lock.fix
            );
        }
    }
    // A test that holds `env` needs the lock no more.
    let migrated = "static LOCK: Mutex<()> = Mutex::new(()); \
        #[test] #[isolated(env)] fn t() { let _l = LOCK.lock(); std::env::set_var(\"A\", \"1\"); }";
    assert_eq!(kinds(migrated), []);
}

/// Seen on hyper-util: SOCKS message and `set_port` unit tests build `SocketAddr`s with fixed
/// ports as values to encode or compare (7 findings, none a socket). A constructed address
/// counts in a fn that binds, connects, serves or starts something, as a `/tmp` literal counts
/// where files are used.
#[test]
fn a_constructed_address_counts_only_where_the_network_is_used() {
    for source in [
        "#[test] fn t() { let mut a = SocketAddr::from(([0, 0, 0, 0], 6881)); set_port(&mut a, 42, true); assert_eq!(a.port(), 42); }",
        "#[test] fn t() { let a = Address::Socket(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080)); let n = Request(&a).write_to_buf(&mut buf).unwrap(); }",
        "#[test] fn t() { assert_address_roundtrips(Address::Socket(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 8080))); }",
    ] {
        assert_eq!(kinds(source), [], "{source}");
    }
    for source in [
        "#[test] fn t() { let a = SocketAddr::from(([127, 0, 0, 1], 3000)); let l = TcpListener::bind(a).unwrap(); }",
        "#[test] fn t() { let a = SocketAddr::new(ip, 9000); tokio::spawn(run_server(a)); }",
        "#[test] fn t() { let a = SocketAddr::from(([127, 0, 0, 1], 3000)); let s = TcpStream::connect(a).unwrap(); }",
        "#[test] fn t() { let a = SocketAddr::from(([127, 0, 0, 1], 3000)); Server::bind(&a).serve(svc); }",
    ] {
        assert_eq!(kinds(source), [Kind::FixedPort], "{source}");
    }
}

/// Seen on reqwest's http3 tests: a port picked on `[::1]` was told to take `port`, an IPv4
/// listener; an IPv6 address takes `port6`.
#[test]
fn an_ipv6_address_is_fixed_by_port6() {
    let fixes = |source: &str| -> Vec<String> {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        assert!(!found.is_empty(), "{source}");
        found.into_iter().map(|f| f.fix).collect()
    };
    for source in [
        r#"async fn free() -> SocketAddr { let l = TcpListener::bind("[::1]:0").await.unwrap(); l.local_addr().unwrap() }"#,
        r#"fn pick() -> u16 { TcpListener::bind("[::1]:0").unwrap().local_addr().unwrap().port() }"#,
        r#"#[test] fn t() { TcpListener::bind("[::1]:8080").unwrap(); }"#,
        "#[test] fn t() { TcpListener::bind((Ipv6Addr::LOCALHOST, 8080)).unwrap(); }",
        "#[test] fn t() { TcpListener::bind(SocketAddr::new(Ipv6Addr::LOCALHOST.into(), 8080)).unwrap(); }",
    ] {
        for fix in fixes(source) {
            assert!(fix.contains("`#[isolated(port6)]`"), "{source}: {fix}");
        }
    }
    for source in [
        r#"fn pick() -> u16 { TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port() }"#,
        r#"#[test] fn t() { TcpListener::bind("127.0.0.1:8080").unwrap(); }"#,
    ] {
        for fix in fixes(source) {
            assert!(fix.contains("`#[isolated(port)]`"), "{source}: {fix}");
        }
    }
}

/// Seen on attohttpc: its env tests share a helper whose `lazy_static!` lock is declared in
/// the helper's body; the lock was not seen, only the variables it removes.
#[test]
fn a_lock_declared_in_a_fn_body_is_a_lock() {
    for source in [
        "fn with_reset<T: FnOnce()>(test: T) { \
           lazy_static::lazy_static! { static ref LOCK: Mutex<()> = Mutex::new(()); } \
           let _guard = LOCK.lock().unwrap(); std::env::remove_var(\"A\"); test(); } \
         #[test] fn t() { with_reset(|| std::env::set_var(\"A\", \"1\")); }",
        "fn with_reset<T: FnOnce()>(test: T) { \
           static LOCK: Mutex<()> = Mutex::new(()); \
           let _guard = LOCK.lock().unwrap(); std::env::remove_var(\"A\"); test(); } \
         #[test] fn t() { with_reset(|| std::env::set_var(\"A\", \"1\")); }",
    ] {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        let locks: Vec<_> = found
            .iter()
            .filter(|f| f.kind == Kind::ProcessLock)
            .collect();
        assert!(!locks.is_empty(), "{source}: {found:#?}");
        for lock in locks {
            assert!(lock.fix.starts_with("`#[isolated(env)]`"), "{}", lock.fix);
        }
    }
}

/// Seen on dotenvy: `temp_env::with_var` changes the environment under a lock of `temp_env`'s
/// own, which tests that set variables otherwise (or under `#[isolated(env)]`) do not take.
#[test]
fn temp_env_changes_the_environment() {
    for source in [
        r#"#[test] fn t() { temp_env::with_var("SRC", Some("env"), || { load(); }); }"#,
        r#"#[test] fn t() { temp_env::with_vars([("A", Some("1"))], || load()); }"#,
        r#"use temp_env::with_var_unset; #[test] fn t() { with_var_unset("A", || load()); }"#,
        r#"#[tokio::test] async fn t() { temp_env::async_with_vars([("A", Some("1"))], load()).await; }"#,
    ] {
        let found = audit_source("tests/t.rs", source, true).unwrap();
        assert_eq!(
            found.iter().map(|f| f.kind).collect::<Vec<_>>(),
            [Kind::ProcessGlobal],
            "{source}"
        );
        assert!(
            found[0].fix.starts_with("`#[isolated(env)]`"),
            "{}",
            found[0].fix
        );
    }
    let migrated =
        r#"#[test] #[isolated(env)] fn t() { temp_env::with_var("A", Some("1"), || load()); }"#;
    assert_eq!(kinds(migrated), []);
}

/// Seen on attohttpc: five tests call one helper that removes four variables; each test's call
/// was shown four times over, with the same snippet, why and fix (27 entries for 5 tests). The
/// report shows a test's call once with every cause under it; the JSON keeps a line per cause.
#[test]
fn a_helpers_causes_are_shown_once_per_call() {
    let source = "fn reset() {\n    std::env::remove_var(\"A\");\n    std::env::remove_var(\"B\");\n    std::env::remove_var(\"C\");\n}\n\n#[test]\nfn one() {\n    reset();\n}\n\n#[test]\nfn two() {\n    reset();\n}\n";
    let (dir, audit) = audit_tree(&[("tests/t.rs", source)]);
    assert_eq!(audit.findings.len(), 6, "{:#?}", audit.findings);
    assert_eq!(json_lines(&audit).lines().count(), 6);
    let text = human(dir.path(), &audit);
    assert!(text.contains("tests/t.rs: 6 findings"), "{text}");
    for test in ["one", "two"] {
        assert_eq!(
            text.matches(&format!(
                "process-global in `{test}` via `reset` (3 places)"
            ))
            .count(),
            1,
            "{text}"
        );
    }
    assert_eq!(text.matches("why:").count(), 2, "{text}");
    assert_eq!(text.matches("fix:").count(), 2, "{text}");
    for var in ["A", "B", "C"] {
        assert_eq!(
            text.matches(&format!(
                "(tests/t.rs:{}:5) std::env::remove_var(\"{var}\");",
                1 + var.as_bytes()[0] as usize - 64
            ))
            .count(),
            2,
            "{text}"
        );
    }
}

/// Seen on actix-web: `actix_test::unused_addr()` binds port 0 through socket2, reads the
/// address and drops the socket; awc's and actix-web's server tests then bind it.
#[test]
fn actix_tests_unused_addr_is_a_released_port() {
    for source in [
        "#[actix_rt::test] async fn t() { let addr = actix_test::unused_addr(); let l = TcpListener::bind(addr).unwrap(); }",
        "use actix_http_test::unused_addr; #[test] fn t() { let addr = unused_addr(); HttpServer::new(app).bind(addr); }",
    ] {
        assert_eq!(kinds(source), [Kind::ReleasedPort], "{source}");
    }
}

/// Seen on hyper-util: `client_keep_alive_0` sleeps 50 ms "to let the threadpool put
/// connection in ready state and back into client pool", then `client.request(req)` and
/// asserts one connect only: under load the connection is not back yet. A sleep before a
/// client's `request` method waits as one before `connect` does.
#[test]
fn a_sleep_before_a_request_method_waits() {
    let found = audit_source(
        "tests/t.rs",
        "#[test] fn t() { client.request(a); thread::sleep(Duration::from_millis(50)); \
         let res = client.request(req); assert_eq!(connects.load(SeqCst), 1); }",
        true,
    )
    .unwrap();
    assert_eq!(
        found.iter().map(|f| f.kind).collect::<Vec<_>>(),
        [Kind::SleepWait],
        "{found:#?}"
    );
    assert!(
        found[0].fix.contains("isolate::eventually"),
        "{}",
        found[0].fix
    );
}

/// The library of a package whose settings are read from the environment once per process,
/// at first use (`dotenvy`, `RUST_LOG`): `settings` holds the static, `level` calls it.
const ONCE_LIB: &str = r#"use std::sync::OnceLock;
pub struct Settings { pub level: String }
fn from_env() -> Settings { Settings { level: std::env::var("LEVEL").unwrap_or_default() } }
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(from_env)
}
pub fn level() -> String { settings().level.clone() }
pub fn version() -> &'static str { static V: OnceLock<String> = OnceLock::new(); V.get_or_init(|| "1".to_owned()) }
"#;

/// Audits a package `svc` of one library file and one test file, `tests/t.rs`.
fn audit_svc(lib: &str, tests: &str) -> (tempfile::TempDir, Audit) {
    audit_tree(&[
        ("Cargo.toml", "[package]\nname = \"svc\"\n"),
        ("src/lib.rs", lib),
        ("tests/t.rs", tests),
    ])
}

/// `(test, fix)` of each finding of `file` whose fix names `fresh_process` or `env(read)`.
fn once_fixes(audit: &Audit, file: &str) -> Vec<(String, String)> {
    audit
        .findings
        .iter()
        .filter(|f| f.file == file)
        .filter(|f| {
            f.fix.contains("fresh_process") || f.fix.starts_with("`#[isolated(env(read))]`")
        })
        .map(|f| (f.test.clone().unwrap_or_default(), f.fix.clone()))
        .collect()
}

const FRESH: &str = "`#[isolated(env, fresh_process)]`";
const READ: &str = "`#[isolated(env(read))]`";

fn starts(fixes: &[(String, String)]) -> Vec<(&str, &str)> {
    fixes
        .iter()
        .map(|(test, fix)| {
            let attr = [FRESH, READ].into_iter().find(|a| fix.starts_with(a));
            (test.as_str(), attr.unwrap_or(fix.as_str()))
        })
        .collect()
}

/// A test that sets a variable and calls what reads it once per process gets `fresh_process`
/// (by path, by `use`d name, through a library fn that calls the one holding the static, and
/// through a helper of the test file); a test that only reads, beside them, gets `env(read)`.
#[test]
fn a_library_reading_the_environment_once_gets_fresh_process_for_its_writers() {
    let tests = r#"use svc::level;
fn expect(level: &str) { assert_eq!(svc::settings().level, level); }
#[test] fn by_path() { unsafe { std::env::set_var("LEVEL", "a") }; assert_eq!(svc::settings().level, "a"); }
#[test] fn by_use() { unsafe { std::env::set_var("LEVEL", "b") }; assert_eq!(level(), "b"); }
#[test] fn by_helper() { unsafe { std::env::set_var("LEVEL", "c") }; expect("c"); }
#[test] fn reader() { expect(""); }
#[test] fn unrelated() { assert_eq!(svc::version(), "1"); }
"#;
    let (_dir, audit) = audit_svc(ONCE_LIB, tests);
    let fixes = once_fixes(&audit, "tests/t.rs");
    assert_eq!(
        starts(&fixes),
        [
            ("by_path", FRESH),
            ("by_use", FRESH),
            ("by_helper", FRESH),
            ("reader", READ)
        ],
        "{:#?}",
        audit.findings
    );
    let by_path = audit
        .findings
        .iter()
        .find(|f| f.test.as_deref() == Some("by_path") && f.fix.starts_with(FRESH))
        .unwrap();
    assert_eq!(by_path.kind, Kind::ProcessGlobal);
    assert_eq!(by_path.via, ["svc::settings"]);
    let cause = by_path.cause.as_ref().unwrap();
    assert_eq!((cause.file.as_str(), cause.line), ("src/lib.rs", 5));
    assert!(
        by_path.message.contains("`SETTINGS`"),
        "{}",
        by_path.message
    );
    assert!(
        by_path.message.contains("src/lib.rs:5"),
        "{}",
        by_path.message
    );
    assert_eq!(by_path.guess, None);
    // The same finding in JSON, with the static as its cause.
    let json = json_lines(&audit);
    let line = json
        .lines()
        .find(|l| l.contains("\"by_path\"") && l.contains("fresh_process"))
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(value["kind"], "process-global");
    assert_eq!(value["cause"]["file"], "src/lib.rs");
    assert_eq!(value["via"][0], "svc::settings");
}

/// The one `fresh_process` finding of `tests/t.rs`, on its test `w`.
fn only_w_gets_fresh_process(audit: &Audit) -> &cargo_isolate::audit::Finding {
    assert_eq!(
        starts(&once_fixes(audit, "tests/t.rs")),
        [("w", FRESH)],
        "{:#?}",
        audit.findings
    );
    audit
        .findings
        .iter()
        .find(|f| f.fix.starts_with(FRESH))
        .unwrap()
}

/// `LazyLock`, `lazy_static!` and `Once` initialisers that read the environment (or the
/// working directory) are found like a `OnceLock`'s, each naming its static.
#[test]
fn lazy_statics_and_once_reading_the_environment_are_found() {
    let libs = [
        ("CONFIG", "use std::sync::LazyLock;\nstatic CONFIG: LazyLock<String> = LazyLock::new(|| std::env::var(\"A\").unwrap());\npub fn config() -> &'static str { &CONFIG }\n"),
        ("CONFIG", "lazy_static::lazy_static! {\n    static ref CONFIG: String = std::env::var(\"A\").unwrap();\n}\npub fn config() -> &'static str { &CONFIG }\n"),
        ("ROOT", "use std::sync::OnceLock;\nstatic ROOT: OnceLock<std::path::PathBuf> = OnceLock::new();\npub fn config() -> &'static std::path::Path { ROOT.get_or_init(|| std::env::current_dir().unwrap()) }\n"),
        ("INIT", "use std::sync::Once;\nstatic INIT: Once = Once::new();\npub fn config() { INIT.call_once(|| { dotenvy::dotenv().ok(); }); }\n"),
    ];
    for (name, lib) in libs {
        let tests = "#[test] fn w() { unsafe { std::env::set_var(\"A\", \"1\") }; svc::config(); }";
        let (_dir, audit) = audit_svc(lib, tests);
        let found = only_w_gets_fresh_process(&audit);
        assert!(
            found.message.contains(&format!("`{name}`")),
            "{}",
            found.message
        );
    }
}

/// Nothing new where nothing changes the environment, where what is read once does not read
/// it, and on the migrated form.
#[test]
fn once_per_process_reads_are_not_reported_without_a_writer_or_once_migrated() {
    let quiet = [
        // Readers only: no test changes the environment.
        "#[test] fn a() { svc::settings(); } #[test] fn b() { svc::level(); }",
        // A writer calling what is read once but not from the environment.
        "#[test] fn w() { unsafe { std::env::set_var(\"LEVEL\", \"a\") }; svc::version(); }",
        // A writer calling a test helper that shares a library fn's name.
        "fn settings() {} #[test] fn w() { unsafe { std::env::set_var(\"LEVEL\", \"a\") }; settings(); }",
        // Migrated.
        "#[test] #[isolated(env, fresh_process)] fn w() { isolate::vars::set(\"LEVEL\", \"a\").unwrap(); svc::settings(); }
         #[test] #[isolated(env(read))] fn r() { svc::settings(); }",
    ];
    for tests in quiet {
        let (_dir, audit) = audit_svc(ONCE_LIB, tests);
        assert_eq!(
            once_fixes(&audit, "tests/t.rs"),
            [],
            "{tests}: {:#?}",
            audit.findings
        );
        assert!(
            audit.findings.iter().all(|f| f.file != "src/lib.rs"),
            "{:#?}",
            audit.findings
        );
    }
}

/// The offender suite's once-per-process family: each writer of `found_global.rs` gets
/// `fresh_process` with the library's `SETTINGS` as the cause, its reader `env(read)`; no
/// migrated test is reported.
#[test]
fn the_once_per_process_family_gets_fresh_process() {
    let audit = offender_suite();
    let fixes = once_fixes(&audit, "tests/found_global.rs");
    assert_eq!(
        starts(&fixes),
        [
            ("global_log_debug", FRESH),
            ("global_log_trace", FRESH),
            ("global_region_eu", FRESH),
            ("global_defaults", READ)
        ],
        "{:#?}",
        audit.findings
    );
    for f in audit.findings.iter().filter(|f| f.fix.starts_with(FRESH)) {
        assert_eq!(f.via, ["expect", "settings"], "{f:#?}");
        let cause = f.cause.as_ref().unwrap();
        assert_eq!(cause.file, "src/settings.rs", "{f:#?}");
    }
    assert!(
        audit.findings.iter().all(|f| !f.file.contains("migrated_")),
        "{:#?}",
        audit.findings
    );
}

/// The library's own unit tests reach its statics by name or `crate::` path; `env` alone on a
/// writer (with `set_var` or `isolate::vars::set`) does not fix it: the first test of the
/// process still fixes what every other sees.
#[test]
fn unit_tests_of_the_library_and_env_alone_get_fresh_process() {
    let lib = format!(
        "{ONCE_LIB}#[cfg(test)] mod tests {{
    use super::*;
    #[test] fn by_name() {{ unsafe {{ std::env::set_var(\"LEVEL\", \"a\") }}; settings(); }}
    #[test] fn by_crate() {{ unsafe {{ std::env::set_var(\"LEVEL\", \"a\") }}; crate::level(); }}
}}\n"
    );
    let tests = "#[test] #[isolated(env)] fn w() { unsafe { std::env::set_var(\"LEVEL\", \"a\") }; svc::settings(); }
        #[test] #[isolated(env)] fn ours() { isolate::vars::set(\"LEVEL\", \"a\").unwrap(); svc::settings(); }";
    let (_dir, audit) = audit_svc(&lib, tests);
    assert_eq!(
        starts(&once_fixes(&audit, "src/lib.rs")),
        [("by_name", FRESH), ("by_crate", FRESH)],
        "{:#?}",
        audit.findings
    );
    assert_eq!(
        starts(&once_fixes(&audit, "tests/t.rs")),
        [("w", FRESH), ("ours", FRESH)],
        "{:#?}",
        audit.findings
    );
}

/// A bare name that no `use` names (a glob brings it in) is linked by its name only: the
/// finding says so; a path into another crate is not linked at all.
#[test]
fn a_library_fn_reached_by_its_name_only_is_a_guess() {
    let tests = "use svc::*; use other::level as lvl;
        #[test] fn w() { unsafe { std::env::set_var(\"LEVEL\", \"a\") }; settings(); }
        #[test] fn x() { unsafe { std::env::set_var(\"LEVEL\", \"a\") }; lvl(); other::settings(); }";
    let (_dir, audit) = audit_svc(ONCE_LIB, tests);
    let found = only_w_gets_fresh_process(&audit);
    assert!(
        found
            .guess
            .as_deref()
            .unwrap_or_default()
            .contains("by its name only"),
        "{found:#?}"
    );
}
