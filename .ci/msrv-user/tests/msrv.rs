use isolate::{isolated, Fixture, InitError, Setup};

#[derive(serde::Serialize, serde::Deserialize)]
struct Info {
    n: u32,
}

fn start(_setup: &mut Setup) -> Result<Info, InitError> {
    Ok(Info { n: 7 })
}

static INFO: Fixture<Info> = Fixture::new("msrv-info", start);

#[test]
#[isolated(port, tmpdir, serial = "msrv", shared = "msrv-r", max_sockets = 2, timeout = "30s", fixture(info = INFO))]
fn everything() -> std::io::Result<()> {
    #![allow(unused_mut)]
    assert_eq!(info.n, 7);
    std::fs::write(tmpdir.join("x"), port.port().to_string())?;
    Ok(())
}

#[test]
#[isolated(env, cwd(read))]
fn process_state() {
    isolate::vars::set("MSRV_X", "1").unwrap();
}

#[test]
#[isolated(fresh_process, udp)]
fn fresh() {
    assert_ne!(udp.port(), 0);
}

#[isolated(reserved_port)]
mod module {
    #[test]
    fn inherits() {
        assert_ne!(reserved_port.port(), 0);
    }
}

/// The observed expansion (a closure typed by the return type, the outcome found by autoref)
/// on helpers: `Self`, a borrow returned, a value that is no outcome, async.
struct Counter(u8);

impl Counter {
    #[isolated(tmpdir)]
    fn new() -> std::io::Result<Self> {
        std::fs::write(tmpdir.join("x"), "y")?;
        Ok(Self(0))
    }

    #[isolated(tmpdir)]
    fn bump(counter: &mut Self) -> std::io::Result<&mut u8> {
        std::fs::write(tmpdir.join("x"), "y")?;
        Ok(&mut counter.0)
    }

    #[isolated(tmpdir)]
    async fn read(counter: &Self) -> Result<Box<dyn std::fmt::Display>, String> {
        std::fs::write(tmpdir.join("x"), "y").map_err(|error| error.to_string())?;
        Ok(Box::new(counter.0))
    }
}

#[isolated(tmpdir)]
fn checksum() -> u64 {
    std::fs::write(tmpdir.join("x"), "y").unwrap();
    1
}

#[test]
fn observed_helpers() {
    let mut counter = Counter::new().unwrap();
    *Counter::bump(&mut counter).unwrap() += checksum() as u8;
    let _ = Counter::read(&counter);
    assert_eq!(counter.0, 1);
}
