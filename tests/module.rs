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
