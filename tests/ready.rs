//! `ready::{tcp, http, line, probe}`, `eventually` and their async forms: success, every
//! failure message, and async waits on a current-thread runtime beside the server they probe.

mod http_server;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_server::serve;
use isolate::{eventually, eventually_async, ready};

#[test]
fn http_waits_through_503_for_the_first_2xx() {
    let (addr, count) = serve(|n| {
        if n < 5 {
            (503, "initialising")
        } else {
            (200, "ok")
        }
    });
    ready::http(format!("http://{addr}/health"))
        .within("10s")
        .wait()
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 6);
}

#[test]
fn http_checks_status_and_body() {
    let (addr, _) = serve(|n| {
        if n < 3 {
            (200, "warming up")
        } else {
            (404, "no route, ready")
        }
    });
    ready::http(format!("http://{addr}/"))
        .status(404)
        .body_contains("ready")
        .within("10s")
        .wait()
        .unwrap();
}

#[test]
fn http_times_needs_consecutive_successes() {
    // Request 1 fails: the run of successes restarts, so readiness needs requests 2, 3, 4.
    let (addr, count) = serve(|n| if n == 1 { (500, "hiccup") } else { (200, "ok") });
    ready::http(format!("http://localhost:{}/", addr.port()))
        .times(3)
        .within("10s")
        .wait()
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 5);
}

#[test]
fn http_timeout_names_the_url_attempts_and_the_last_answer() {
    let (addr, _) = serve(|_| (503, "initialising: loading 3 of 7 routes"));
    let url = format!("http://{addr}/health");
    let error = ready::http(&url).within("300ms").wait().unwrap_err();
    let message = error.to_string();
    assert!(error.is_timeout(), "{message}");
    for part in [
        "timed out after 0.3s waiting for HTTP GET `",
        &url,
        "` to answer 2xx: ",
        " attempts over ",
        "the last answered 503 Whatever with the body `initialising: loading 3 of 7 routes`",
        "raise the wait with `.within(\"...\")` on the probe",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

/// The attempt the deadline cuts short (the last, given what time is left, often a sliver)
/// fails for want of time, not for anything the server did: the message names the answer
/// before it. Here every request after the first is held unanswered, so the last attempt always
/// runs out of time.
#[test]
fn http_timeout_names_the_last_answer_not_the_attempt_cut_short() {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            if n == 0 {
                http_server::read_request(&mut stream);
                let body = "initialising";
                let _ = write!(
                    stream,
                    "HTTP/1.1 503 Busy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            } else {
                held.push(stream);
            }
        }
    });
    let error = ready::http(format!("http://{addr}/health"))
        .within("1s")
        .wait()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_timeout(), "{message}");
    assert!(
        message.contains("the last answered 503 Busy with the body `initialising`"),
        "{message}"
    );
}

#[test]
fn http_timeout_shows_the_connection_error() {
    // A reserved number is outside the ephemeral range and no isolated test binds it: refused.
    let port = isolate::ReservedPort::reserve().unwrap();
    let error = ready::http(format!("http://127.0.0.1:{}/", port.port()))
        .within("100ms")
        .wait()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("the last failed with: Connection refused"),
        "{error}"
    );
}

#[test]
fn tcp_waits_for_a_listener_and_names_it_on_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ready::tcp(listener.local_addr().unwrap()).wait().unwrap();

    let port = isolate::ReservedPort::reserve().unwrap();
    let error = ready::tcp(("127.0.0.1", port.port()))
        .within("50ms")
        .wait()
        .unwrap_err();
    let message = error.to_string();
    assert!(error.is_timeout());
    assert!(
        message.contains(&format!(
            "waiting for a TCP connection to `127.0.0.1:{}`",
            port.port()
        )),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
}

#[test]
fn bad_input_is_a_clear_error_before_any_attempt() {
    let cases: Vec<(isolate::Error, &str)> = vec![
        (
            ready::http("https://127.0.0.1/").wait().unwrap_err(),
            "`ready::http` speaks plain HTTP; probe a TLS server with `ready::tcp` or `ready::probe`",
        ),
        (
            ready::http("localhost:8080").wait().unwrap_err(),
            "invalid URL `localhost:8080` for `ready::http`: expected `http://HOST:PORT/PATH`",
        ),
        (
            ready::http("http://example.com/").wait().unwrap_err(),
            "`example.com` is a host name; write an IP address of this machine or `localhost`",
        ),
        (
            ready::http("http://192.0.2.1:80/").wait().unwrap_err(),
            "`192.0.2.1` is not an address of this machine; `ready::http` only probes this machine",
        ),
        (
            ready::http("http://127.0.0.1:99999/").wait().unwrap_err(),
            "the port must be a number from 1 to 65535",
        ),
        (
            ready::http("http://127.0.0.1/").within("0s").wait().unwrap_err(),
            "a wait of `0s` for readiness of HTTP GET `http://127.0.0.1/` to answer 2xx can never succeed: give a duration above zero",
        ),
        (
            ready::tcp("127.0.0.1:1").within("soon").wait().unwrap_err(),
            "invalid duration `soon` for readiness of a TCP connection to `127.0.0.1:1`: expected a duration like `500ms`",
        ),
        (
            ready::tcp("127.0.0.1:1").within(Duration::ZERO).wait().unwrap_err(),
            "can never succeed: give a duration above zero",
        ),
        (
            ready::tcp("127.0.0.1:1").times(0).wait().unwrap_err(),
            "`.times(0)` on the probe of a TCP connection to `127.0.0.1:1` can never succeed: use 1 or more",
        ),
        (
            ready::line("listening").wait().unwrap_err(),
            "`ready::line(\"listening\")` watches a child's output: use `child.wait_ready(ready::line(..))`",
        ),
        (
            eventually("", || Ok::<(), String>(())).unwrap_err(),
            "invalid duration `` for the check of `eventually` at tests/ready.rs:",
        ),
    ];
    for (error, expected) in cases {
        assert!(error.is_config(), "{error}");
        assert!(
            error.to_string().contains(expected),
            "`{expected}` missing from: {error}"
        );
    }
}

#[test]
fn probe_takes_result_bool_or_unit_and_shows_where_it_was_written() {
    let calls = AtomicU32::new(0);
    ready::probe(|| Ok::<_, String>(calls.fetch_add(1, Ordering::SeqCst) >= 3))
        .wait()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 4);

    let error = ready::probe(|| Err::<(), _>("cache has 2 of 5 shards"))
        .within("30ms")
        .wait()
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("waiting for the check of `ready::probe` at tests/ready.rs:"),
        "{message}"
    );
    assert!(
        message.contains("the last failed with: cache has 2 of 5 shards"),
        "{message}"
    );

    let error = ready::probe(|| Ok::<bool, String>(false))
        .within("30ms")
        .wait()
        .unwrap_err();
    assert!(
        error.to_string().contains("the last returned `Ok(false)`"),
        "{error}"
    );
}

#[test]
fn eventually_returns_the_first_success_or_the_last_error() {
    let calls = AtomicU32::new(0);
    let value = eventually("5s", || match calls.fetch_add(1, Ordering::SeqCst) {
        n if n < 4 => Err(format!("only {n} rows")),
        n => Ok(n),
    })
    .unwrap();
    assert_eq!(value, 4);

    let error = eventually("40ms", || Err::<(), _>("3 rows left in the queue")).unwrap_err();
    let message = error.to_string();
    assert!(error.is_timeout());
    for part in [
        "timed out after 0.0s waiting for the check of `eventually` at tests/ready.rs:",
        " attempts over ",
        "the last failed with: 3 rows left in the queue",
        "raise the wait with the first argument of `eventually`",
    ] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
}

/// A server on the test's own current-thread runtime answers 503 until it has seen two
/// requests: only waits that leave the runtime's thread free can see it ready.
fn tokio_server(rt: &tokio::runtime::Runtime) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        let mut served = 0;
        loop {
            let Ok((mut stream, _)) = listener.accept().await else { continue };
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            served += 1;
            let (status, body) = if served <= 2 { (503, "starting") } else { (200, "up") };
            let _ = stream
                .write_all(
                    format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                        .as_bytes(),
                )
                .await;
        }
    });
    addr
}

#[test]
fn async_waits_leave_a_current_thread_runtime_free() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = tokio_server(&rt);
    rt.block_on(async {
        ready::http(format!("http://{addr}/"))
            .body_contains("up")
            .within("10s")
            .wait_async()
            .await
            .unwrap();
        // An async check, run on this same runtime, retried with a timer that blocks nothing.
        let attempts = Arc::new(AtomicU32::new(0));
        let body = eventually_async("10s", || {
            let attempts = Arc::clone(&attempts);
            async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Err("not yet".to_owned());
                }
                let mut stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| e.to_string())?;
                stream
                    .write_all(b"GET / HTTP/1.1\r\n\r\n")
                    .await
                    .map_err(|e| e.to_string())?;
                let mut text = String::new();
                stream
                    .read_to_string(&mut text)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(text)
            }
        })
        .await
        .unwrap();
        assert!(body.ends_with("up"), "{body}");
        let error = eventually_async("30ms", || async { Err::<(), _>("never") })
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("the last failed with: never"),
            "{error}"
        );
        // Named as the caller wrote it, in both places.
        assert!(
            error
                .to_string()
                .contains("the check of `eventually_async` at")
                && error
                    .to_string()
                    .contains("the first argument of `eventually_async`"),
            "{error}"
        );
    });
}

#[test]
fn async_eventually_bounds_an_attempt_that_never_ends() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let error = rt
        .block_on(eventually_async("50ms", || {
            std::future::pending::<Result<(), String>>()
        }))
        .unwrap_err();
    assert!(error.is_timeout());
    assert!(error.to_string().contains("1 attempt over "), "{error}");
    assert!(
        error
            .to_string()
            .contains("the last was still running when the time was up"),
        "{error}"
    );
}

/// A server that answers at once but never finishes: its head, then a byte of body at a time
/// for as long as the client listens (an event stream, a log tail). Returns its address and a
/// flag the server sets when the client hung up.
fn trickling_server(
    head: &'static str,
) -> (std::net::SocketAddr, Arc<std::sync::atomic::AtomicBool>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hung_up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&hung_up);
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(head.as_bytes());
        // Bounded: ten minutes of bytes at most, should the client never hang up.
        for _ in 0..60_000 {
            if stream.write_all(b"1\r\nx\r\n").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        flag.store(true, Ordering::SeqCst);
    });
    (addr, hung_up)
}

/// Runs `wait` on a thread and returns its result, or `None` if it is still waiting after a
/// minute: a liveness bound far beyond the probe's own, not a speed check.
fn finishes<T: Send + 'static>(wait: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || send.send(wait()));
    receive.recv_timeout(Duration::from_secs(60)).ok()
}

#[test]
fn http_gives_up_on_an_answer_that_never_ends_within_its_time() {
    let (addr, hung_up) = trickling_server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    let url = format!("http://{addr}/events");
    let error = finishes(move || {
        ready::http(url)
            .body_contains("ready")
            .within("300ms")
            .wait()
    })
    .expect("the probe overran its 300ms by a minute")
    .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    assert!(
        error
            .to_string()
            .contains("answered 200 OK with the body `xx"),
        "{error}"
    );
    assert!(
        eventually("10s", || if hung_up.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("open")
        })
        .is_ok(),
        "the probe left the connection open"
    );
}

#[test]
fn http_gives_up_on_a_head_that_never_ends_within_its_time() {
    let (addr, _) = trickling_server("HTTP/1.1 200 OK\r\nX-Slow: ");
    let url = format!("http://{addr}/");
    let error = finishes(move || ready::http(url).within("300ms").wait())
        .expect("the probe overran its 300ms by a minute")
        .unwrap_err();
    assert!(error.is_timeout(), "{error}");
}

/// `Duration::MAX` is how some say "no limit": the waits take it as a very long time, not as
/// an overflow.
#[test]
fn the_longest_duration_is_a_long_wait_not_a_panic() {
    ready::probe(|| Ok::<_, String>(true))
        .within(Duration::MAX)
        .wait()
        .unwrap();
    assert_eq!(eventually(Duration::MAX, || Ok::<_, &str>(7)).unwrap(), 7);
    let value = block_on(eventually_async(Duration::MAX, || async {
        Ok::<_, &str>(8)
    }));
    assert_eq!(value.unwrap(), 8);
}

/// Runs `future` on a current-thread runtime.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
