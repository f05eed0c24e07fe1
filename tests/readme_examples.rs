//! The README's examples as real tests: a doctest drops `#[test]` fns before checking them, so
//! these are the only place the README's code is compiled and run as written.

use isolate::isolated;

/// The README's stand-in for the user's own server: serves one connection.
fn spawn_server(listener: std::net::TcpListener, dir: &std::path::Path) {
    let log = dir.join("server.log");
    std::thread::spawn(move || {
        if listener.accept().is_ok() {
            let _ = std::fs::write(log, "accepted");
        }
    });
}

// The README's first example, with the body's `// ...` made concrete.
#[test]
#[isolated(port, tmpdir, serial = "ws", max_sockets = 64)]
fn reconnects() {
    // `port` and `tmpdir` are bound by the attribute.
    let addr = port.addr();
    let dir = tmpdir.path().to_owned();
    spawn_server(port.into_listener(), tmpdir.path());
    std::net::TcpStream::connect(addr).unwrap();
    isolate::eventually("10s", || {
        std::fs::read_to_string(dir.join("server.log")).map(|text| assert_eq!(text, "accepted"))
    })
    .unwrap();
}

// The README's async example, as written.
#[tokio::test]
#[isolated(port, tmpdir)]
async fn serves_over_tokio() -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(port.into_nonblocking_listener()?)?;
    let client = tokio::net::TcpStream::connect(listener.local_addr()?);
    let (client, accepted) = tokio::join!(client, listener.accept());
    client?;
    accepted?;
    tokio::fs::write(tmpdir.join("log"), "accepted").await
}
