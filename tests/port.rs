//! Ports, reserved port numbers and temp dirs handed out while held are never handed to
//! anyone else: hundreds of threads and of child processes record what they hold at the same
//! moment, and no value appears twice.

mod support;

use std::collections::HashSet;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use isolate::{isolated, Port, ReservedPort, Resource, Spec, TmpDir, UdpPort};
use support::{Log, ROLE};

fn assert_all_distinct(records: &[String]) {
    for column in 1..records[0].split(' ').count() {
        let values: Vec<&str> = records
            .iter()
            .map(|r| r.split(' ').nth(column).unwrap())
            .collect();
        let unique: HashSet<&&str> = values.iter().collect();
        assert_eq!(
            unique.len(),
            values.len(),
            "column {column} repeats a value among {} holders",
            values.len()
        );
    }
}

// The two hundreds-of tests hold many descriptors each; one at a time keeps this binary well
// under a 1024 open-file limit.
#[test]
#[isolated(serial = "isolate-tests-descriptor-heavy")]
fn hundreds_of_threads_hold_distinct_ports_and_dirs() {
    static SPEC: Spec = Spec::new("port::threads")
        .bind(Resource::Port, &["a", "b"])
        .bind(Resource::Udp, &["u"])
        .bind(Resource::TmpDir, &["t"]);
    const THREADS: usize = 200;
    let barrier = Arc::new(Barrier::new(THREADS));
    let records = Arc::new(Mutex::new(Vec::new()));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (barrier, records) = (Arc::clone(&barrier), Arc::clone(&records));
            thread::spawn(move || {
                let mut guard = isolate::enter(&SPEC);
                let (a, b, u, t): (Port, Port, UdpPort, TmpDir) = (
                    guard.take("a").unwrap(),
                    guard.take("b").unwrap(),
                    guard.take("u").unwrap(),
                    guard.take("t").unwrap(),
                );
                assert!(t.path().is_dir());
                records.lock().unwrap().push(format!(
                    "held {} {} {} {}",
                    a.port(),
                    b.port(),
                    u.port(),
                    t.path().display()
                ));
                // Everyone holds everything at this point.
                barrier.wait();
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let records = records.lock().unwrap();
    assert_eq!(records.len(), THREADS);
    // Ports of both kinds and across kinds share one column space: check them together too.
    let tcp: Vec<String> = records
        .iter()
        .flat_map(|r| r.split(' ').skip(1).take(2).map(str::to_owned))
        .collect();
    assert_eq!(tcp.iter().collect::<HashSet<_>>().len(), 2 * THREADS);
    assert_all_distinct(&records);
}

#[test]
#[ignore = "child process of hundreds_of_processes_hold_distinct_ports_numbers_and_dirs"]
#[isolated(port, udp, reserved_port, tmpdir)]
fn holder() {
    let log = Log::from_env();
    log.append(&format!(
        "held {} {} {} {}",
        port.port(),
        udp.port(),
        reserved_port.port(),
        tmpdir.path().display()
    ));
    let total: usize = std::env::var(ROLE).unwrap().parse().unwrap();
    // A barrier across processes: nobody lets go until every holder has recorded.
    log.wait_for("held", total, Duration::from_mins(1));
}

#[test]
#[isolated(serial = "isolate-tests-descriptor-heavy")]
fn hundreds_of_processes_hold_distinct_ports_numbers_and_dirs() {
    const CHILDREN: usize = 100;
    let root = support::private_root();
    let log = Log::new(root.path());
    let commands = (0..CHILDREN)
        .map(|_| {
            let command = support::child_in("holder", &CHILDREN.to_string(), root.path(), &log);
            command
        })
        .collect();
    support::run_all(commands, true);
    let records = log.lines();
    assert_eq!(records.len(), CHILDREN);
    assert_all_distinct(&records);
    // Passing tests leave no directory behind.
    for record in &records {
        assert!(!std::path::Path::new(record.split(' ').nth(4).unwrap()).exists());
    }
}

#[test]
#[isolated(port)]
fn the_listener_accepts_before_the_body_asks() {
    // No accept loop yet: the connection waits in the listener's backlog.
    let mut client = TcpStream::connect(port.addr()).unwrap();
    std::io::Write::write_all(&mut client, b"early").unwrap();
    let (mut server_side, peer) = port.listener().accept().unwrap();
    assert_eq!(peer, client.local_addr().unwrap());
    let mut buf = [0; 5];
    std::io::Read::read_exact(&mut server_side, &mut buf).unwrap();
    assert_eq!(&buf, b"early");
    // Nobody else can bind it while held.
    assert_eq!(
        TcpListener::bind(port.addr()).unwrap_err().kind(),
        std::io::ErrorKind::AddrInUse
    );
}

#[test]
fn ipv6_where_the_host_has_it_and_a_clear_error_where_not() {
    static SPEC: Spec = Spec::new("port::v6")
        .bind(Resource::Port6, &["v6"])
        .bind(Resource::Udp6, &["u6"]);
    if TcpListener::bind("[::1]:0").is_ok() {
        let mut guard = isolate::enter(&SPEC);
        let (v6, u6): (Port, UdpPort) = (guard.take("v6").unwrap(), guard.take("u6").unwrap());
        assert!(v6.addr().is_ipv6() && v6.addr().ip().is_loopback());
        assert!(u6.addr().is_ipv6());
    } else {
        let error = isolate::try_enter(&SPEC).unwrap_err().to_string();
        assert!(error.contains("this host has no IPv6 loopback"), "{error}");
    }
}

#[test]
#[ignore = "child process of no_descriptor_is_leaked"]
fn thousands_of_guards() {
    static SPEC: Spec = Spec::new("port::fd_leak")
        .bind(Resource::Port, &["a", "b"])
        .bind(Resource::Udp, &["u"])
        .bind(Resource::ReservedPort, &["r"])
        .bind(Resource::TmpDir, &["t"])
        .serial(&["fd-leak"])
        .shared(&["fd-leak-shared"])
        .max_sockets(2);
    let open = || std::fs::read_dir("/proc/self/fd").unwrap().count();
    drop(isolate::enter(&SPEC)); // first use opens the directories once
    let before = open();
    for _ in 0..2_000 {
        let mut guard = isolate::enter(&SPEC);
        let _: (Port, UdpPort, ReservedPort) = (
            guard.take("a").unwrap(),
            guard.take("u").unwrap(),
            guard.take("r").unwrap(),
        );
    }
    assert_eq!(open(), before, "descriptors leaked over 2000 tests");
}

#[test]
fn no_descriptor_is_leaked() {
    let root = support::private_root();
    let mut command = support::child("thousands_of_guards", "run");
    command.env(isolate::env::DIR, root.path());
    support::run(&mut command, true);
}

#[test]
#[ignore = "child process of a_reserved_number_is_freed_by_sigkill_and_the_band_can_run_out"]
#[isolated(reserved_port)]
fn reserver() {
    let log = Log::from_env();
    log.append(&format!("reserved {}", reserved_port.port()));
    // The number really is free for the test to bind.
    drop(TcpListener::bind(("127.0.0.1", reserved_port.port())).unwrap());
    if std::env::var(ROLE).as_deref() == Ok("hold") {
        thread::sleep(Duration::from_mins(1));
    }
}

/// A full band makes the next reservation wait (naming the holder when it times out), and a
/// holder killed with SIGKILL gives its number to the waiter.
#[test]
fn a_reserved_number_is_freed_by_sigkill_and_the_band_can_run_out() {
    // A one-number band around a number reserved for this test on the machine-wide root.
    let mine = isolate::ReservedPort::reserve().unwrap();
    let band = format!("{0}-{0}", mine.port());
    let root = support::private_root();
    let log = Log::new(root.path());
    let child = |role: &str, timeout: &str| {
        let mut command = support::child_in("reserver", role, root.path(), &log);
        command
            .env(isolate::env::PORT_BAND, &band)
            .env(isolate::env::TIMEOUT, timeout);
        command
    };
    let holder = support::KillOnDrop(
        child("hold", "20s")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let holder_pid = holder.0.id();
    log.wait_for("reserved", 1, Duration::from_secs(30));
    assert_eq!(log.lines()[0], format!("reserved {}", mine.port()));

    let started = std::time::Instant::now();
    let output = support::text(&support::run(&mut child("try", "300ms"), false));
    assert!(started.elapsed() >= Duration::from_millis(300), "{output}");
    assert!(
        output.contains(&format!(
            "timed out after 0.3s waiting for a port number in the reserved band {band}: 1 are reserved by \
             isolated tests (held by `"
        )) && output.contains(&format!("reserver` (pid {holder_pid}, for ")),
        "{output}"
    );
    assert!(
        output.contains(
            "the wait is `ISOLATE_TIMEOUT=300ms` (set in the environment); raise it, widen the \
             band with `ISOLATE_PORT_BAND=LOW-HIGH`"
        ),
        "{output}"
    );

    // A waiter started while the band is full gets the number once the holder is killed.
    let waiter = child("try", "30s")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(holder);
    let output = waiter.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", support::text(&output));
    assert_eq!(log.lines().len(), 2);
}

#[test]
#[ignore = "child process of reservation_files_do_not_pile_up"]
fn reserves_many() {
    for _ in 0..300 {
        let reserved = isolate::ReservedPort::reserve().unwrap();
        assert_ne!(reserved.to_string(), "0");
        assert_eq!(reserved.to_string(), reserved.port().to_string());
    }
}

#[test]
fn reservation_files_do_not_pile_up() {
    let root = support::private_root();
    let mut command = support::child("reserves_many", "run");
    command.env(isolate::env::DIR, root.path());
    support::run(&mut command, true);
    let left = std::fs::read_dir(root.path().join("ports"))
        .unwrap()
        .count();
    assert_eq!(
        left, 0,
        "lock files left behind by 300 released reservations"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_band_inside_the_ephemeral_range_is_refused() {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap();
    let low: u16 = range.split_whitespace().next().unwrap().parse().unwrap();
    let band = format!("{}-{}", low - 10, low + 10);
    let root = support::private_root();
    let mut command = support::child("reserver", "try");
    command
        .env(isolate::env::DIR, root.path())
        .env(support::LOG, root.path().join("log"))
        .env(isolate::env::PORT_BAND, &band);
    let output = support::text(&support::run(&mut command, false));
    assert!(
        output.contains(&format!(
            "cannot use `ISOLATE_PORT_BAND={band}`: it overlaps the kernel's ephemeral range {low}-"
        )),
        "{output}"
    );
}

#[test]
#[ignore = "child process of running_out_of_descriptors_is_a_clear_error"]
fn binds_past_the_descriptor_limit() {
    static SPEC: Spec = Spec::new("port::fd_limit").bind(
        Resource::Port,
        &[
            "p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09", "p10", "p11",
            "p12", "p13", "p14", "p15", "p16", "p17", "p18", "p19", "p20", "p21", "p22", "p23",
            "p24", "p25", "p26", "p27", "p28", "p29", "p30", "p31", "p32", "p33", "p34", "p35",
            "p36", "p37", "p38", "p39", "p40", "p41", "p42", "p43", "p44", "p45", "p46", "p47",
        ],
    );
    let error = isolate::try_enter(&SPEC).unwrap_err().to_string();
    Log::from_env().append(&error);
    // Everything bound before the failure was released: a second try fails the same way
    // rather than earlier.
    let again = isolate::try_enter(&SPEC).unwrap_err().to_string();
    assert_eq!(again, error);
}

/// A test that binds more ports than the process may open files fails at once with an error
/// that says so and names the knob, instead of a bare "Too many open files".
#[test]
fn running_out_of_descriptors_is_a_clear_error() {
    let root = support::private_root();
    let log = Log::new(root.path());
    let child = support::child_in("binds_past_the_descriptor_limit", "run", root.path(), &log);
    // `ulimit` in a shell: the limit applies to the test binary it `exec`s.
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 32 && exec \"$0\" \"$@\"")
        .arg(child.get_program())
        .args(child.get_args())
        .envs(child.get_envs().filter_map(|(k, v)| Some((k, v?))));
    support::run(&mut command, true);
    let error = log.lines().join("\n");
    assert!(
        error.contains(
            "cannot bind a TCP listener on `127.0.0.1:0`: the process is out of file descriptors"
        ),
        "{error}"
    );
    assert!(error.contains("`max_sockets = N`"), "{error}");
}
