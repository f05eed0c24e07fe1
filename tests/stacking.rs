//! The attribute-order matrix: `#[isolated]` above and below `#[test]` and `#[tokio::test]`,
//! above `#[rstest]` and `#[test_case]`, with `#[should_panic]`, `#[ignore]`, `-> Result` and
//! `async fn`. Each test checks that its resources are really there.

use std::net::TcpStream;

use isolate::isolated;

fn accepting(port: &isolate::Port) {
    TcpStream::connect(port.addr()).expect("the listener accepts");
}

#[test]
#[isolated(port)]
fn below_test() {
    accepting(&port);
}

#[isolated(port)]
#[test]
fn above_test() {
    accepting(&port);
}

#[test]
#[isolated(tmpdir)]
fn returns_result() -> Result<(), std::io::Error> {
    std::fs::write(tmpdir.join("f"), "x")?;
    assert_eq!(std::fs::read_to_string(tmpdir.join("f"))?, "x");
    Ok(())
}

#[test]
#[isolated(port)]
fn returns_result_without_tmpdir() -> Result<(), std::io::Error> {
    TcpStream::connect(port.addr())?;
    Ok(())
}

#[test]
#[should_panic = "deliberate"]
#[isolated(port, tmpdir)]
fn should_panic_below() {
    accepting(&port);
    assert!(tmpdir.path().is_dir());
    panic!("deliberate");
}

#[isolated(serial = "stacking-ignored")]
#[test]
#[ignore = "shows that #[ignore] composes; it would fail if run"]
fn ignored() {
    panic!("ignored tests do not run");
}

#[tokio::test]
#[isolated(port)]
async fn tokio_above() {
    // tokio expanded first: we wrap its synchronous fn, the guard outlives block_on.
    let listener =
        tokio::net::TcpListener::from_std(port.into_nonblocking_listener().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    assert_eq!(client.unwrap().local_addr().unwrap(), accepted.unwrap().1);
}

#[isolated(port, tmpdir)]
#[tokio::test]
async fn tokio_below() -> Result<(), std::io::Error> {
    // We saw the async fn: the guard lives inside the future, held across `.await`.
    let listener = tokio::net::TcpListener::from_std(port.into_nonblocking_listener()?)?;
    let addr = listener.local_addr()?;
    let (client, accepted) = tokio::join!(tokio::net::TcpStream::connect(addr), listener.accept());
    client?;
    accepted?;
    tokio::fs::write(tmpdir.join("f"), "async").await?;
    Ok(())
}

#[isolated(tmpdir)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_multi_thread_needs_a_send_guard() {
    let path = tmpdir.join("f");
    tokio::spawn(async move { tokio::fs::write(path, "from another worker").await.unwrap() })
        .await
        .unwrap();
    assert!(tmpdir.join("f").is_file());
}

#[isolated(port)]
#[rstest::rstest]
#[case(1)]
#[case(2)]
fn rstest_cases(#[case] n: u8) {
    assert!(n > 0);
    accepting(&port);
}

#[isolated(port)]
#[test_case::test_case(3 ; "three")]
#[test_case::test_case(4 ; "four")]
fn test_case_cases(n: u8) {
    assert!(n > 2);
    accepting(&port);
}

// test_case's `=> expected`: the fn returns a value test_case compares, not an outcome, so
// with a temp dir it must not have to be a `Result` or `impl Termination` (found on
// test-case's own acceptance suite, whose `=>` cases did not compile).
#[isolated(tmpdir)]
#[test_case::test_case(2 => 4 ; "doubled")]
#[test_case::test_case(3 => 6 ; "tripled")]
fn test_case_value(n: u32) -> u32 {
    assert!(tmpdir.path().is_dir());
    n * 2
}

#[derive(Debug, PartialEq)]
enum Parity {
    Even,
}

#[isolated(tmpdir)]
#[test_case::test_case(2 => matches Parity::Even ; "even")]
fn test_case_user_type(n: u32) -> Parity {
    assert!(tmpdir.path().is_dir() && n % 2 == 0);
    Parity::Even
}

#[isolated(tmpdir)]
#[test_case::test_case(vec![1, 2] => is count 2 ; "vec")]
#[test_case::test_matrix([[7]] => is count 1)]
fn test_case_opaque<T>(items: impl IntoIterator<Item = T>) -> impl IntoIterator<Item = T> {
    assert!(tmpdir.path().is_dir());
    items
}
