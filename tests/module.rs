//! `#[isolated]` on an inline module applies to every test inside, nested modules included,
//! and combines with a test's own `#[isolated]`.

use isolate::isolated;

#[isolated(port, shared = "module-tests")]
mod server {
    use super::isolated;

    #[test]
    fn every_test_gets_the_module_bindings() {
        assert_ne!(port.port(), 0);
    }

    #[test]
    #[isolated(tmpdir(data), max_sockets = 2)]
    fn its_own_attribute_adds_to_the_module() {
        assert_ne!(port.port(), 0);
        assert!(data.path().is_dir());
    }

    fn helper_is_untouched() -> u16 {
        7
    }

    #[test]
    fn helpers_stay_plain_functions() {
        assert_eq!(helper_is_untouched(), 7);
        let _ = &port;
    }

    mod nested {
        #[test]
        fn nested_modules_inherit() {
            assert_ne!(port.port(), 0);
        }
    }

    #[isolated(udp)]
    mod nested_with_its_own {
        #[test]
        fn both_apply() {
            assert_ne!(port.addr(), udp.addr());
        }
    }
}

/// The module's group reaches every test: they never overlap each other.
#[isolated(serial = "module-serial")]
mod serial_module {
    use std::sync::atomic::{AtomicBool, Ordering};

    static INSIDE: AtomicBool = AtomicBool::new(false);

    fn alone() {
        assert!(
            !INSIDE.swap(true, Ordering::SeqCst),
            "two members of the module's group overlapped"
        );
        for _ in 0..2_000 {
            std::thread::yield_now();
        }
        INSIDE.store(false, Ordering::SeqCst);
    }

    #[test]
    fn a() {
        alone();
    }

    #[test]
    fn b() {
        alone();
    }

    #[test]
    fn c() {
        alone();
    }
}

/// Issue 15 item 10: a test's own `#[isolated]` inside an `#[isolated]` module compiles when
/// `isolated` is imported only at the file's root (the module has no `use` of its own).
#[isolated(shared = "module-own-attribute")]
mod own_attribute_without_an_import {
    #[test]
    #[isolated(port)]
    fn gets_both() {
        assert_ne!(port.port(), 0);
    }
}

/// Issue 15 item 9: every test-attribute family in a module gets the module's arguments (the
/// body uses the binding, so a skipped test would not compile).
#[isolated(tmpdir, shared = "module-families")]
mod test_families {
    #[test_case::test_matrix([1, 2], [3])]
    fn matrix(a: u8, b: u8) {
        assert!(a < b && tmpdir.path().is_dir());
    }

    #[test_case::test_case(1 ; "one")]
    fn one_case(n: u8) {
        assert!(n == 1 && tmpdir.path().is_dir());
    }

    #[cfg_attr(test, test)]
    fn cfg_attr_wrapped() {
        assert!(tmpdir.path().is_dir());
    }

    #[rstest::rstest]
    fn rstest_plain() {
        assert!(tmpdir.path().is_dir());
    }

    #[tokio::test]
    async fn tokio_runtime() {
        assert!(tmpdir.path().is_dir());
    }
}
