//! `#[isolated]` below test macros that rewrite the body but keep it where locals reach: the
//! misplaced-attribute check must not fire. Each of these was a false compile error.

use isolate::isolated;

// tokio re-spans its braces to the whole written block: the user's own braces. Held unused.
#[tokio::test]
#[isolated(port)]
async fn below_tokio_holding_only() {}

// serial_test writes new braces but keeps the block in a closure: a binding the block never
// names is held unused, as in a written body.
#[test]
#[serial_test::serial]
#[isolated(tmpdir)]
fn below_serial_test_holding_only() {}

// rstest without cases nests the written fn; a block that names nothing was held on purpose.
#[rstest::rstest]
#[isolated(port)]
fn below_rstest_holding_only() {}

// A raw format string names its inline argument.
#[tokio::test]
#[isolated(port)]
async fn below_tokio_raw_format_string() {
    let json = format!(r#"{{"port": {}, "debug": "{port:?}"}}"#, 1);
    assert!(json.contains("port"), "{json}");
}

// A trait's bodiless method ends at `;`: the closure after it is no fn body.
#[tokio::test]
#[isolated(port)]
async fn bodiless_fn_then_closure() {
    trait Probe {
        fn probe(&self);
    }
    impl Probe for () {
        fn probe(&self) {}
    }
    ().probe();
    let connect = || {
        std::net::TcpStream::connect(port.addr()).expect("the listener accepts");
    };
    connect();
}
