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

// A module whose tests come as `$item:item` fragments, each in its own invisible group: every
// one is a test of the module (a fragment is not one unknown item running on into the next).
macro_rules! isolated_module {
    ($port:ident, $($item:item)*) => {
        #[isolated(port($port))]
        mod from_item_fragments {
            $($item)*
        }
    };
}

// Each body names the binding, so it compiles only if its fn was given one.
// Braces, so rustfmt leaves the items as written.
isolated_module! {
    api,
    #[test]
    fn first() {
        helper();
        assert_ne!(api.port(), 0);
    }
    #[test]
    fn second() {
        assert_ne!(api.port(), 0);
    }
    pub(crate) fn helper() {}
    // After a fragment that starts with `pub`, which is no `$vis` fragment.
    #[test]
    fn third() {
        assert_ne!(api.port(), 0);
    }
}
