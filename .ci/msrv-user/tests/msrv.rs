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
