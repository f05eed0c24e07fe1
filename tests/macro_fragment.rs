//! A test written by a `macro_rules!` that passes its body as a `$body:block` fragment: the
//! body arrives in an invisible group, and the attribute takes it as the fn's body.

use isolate::isolated;

macro_rules! isolated_test {
    ($name:ident, $port:ident, $body:block) => {
        #[test]
        #[isolated(port($port))]
        fn $name() $body
    };
}

// The binding's name comes from the call site, like the body that uses it (macro hygiene).
isolated_test!(body_from_a_macro_fragment, api, {
    assert_ne!(api.port(), 0);
    assert!(std::net::TcpStream::connect(api.addr()).is_ok());
});
