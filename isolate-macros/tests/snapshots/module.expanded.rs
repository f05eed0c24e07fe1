mod tests {
    use isolate::isolated;
    fn helper() {}
    #[test]
    fn plain() {
        let __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
                test: ::core::concat!(::core::module_path!(), "::", "plain"),
                ports: &[],
                ports6: &[],
                udp: &[],
                udp6: &[],
                reserved_ports: &[],
                tmpdirs: &[],
                serial: &["db"],
                shared: &[],
                max_sockets: 0,
                timeout: ::core::option::Option::None,
                expects_panic: false,
            };
            ::isolate::__private::enter(&SPEC)
        };
        {}
    }
    #[test]
    fn own() {
        let mut __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
                test: ::core::concat!(::core::module_path!(), "::", "own"),
                ports: &["port"],
                ports6: &[],
                udp: &[],
                udp6: &[],
                reserved_ports: &[],
                tmpdirs: &[],
                serial: &["db"],
                shared: &[],
                max_sockets: 0,
                timeout: ::core::option::Option::None,
                expects_panic: false,
            };
            ::isolate::__private::enter(&SPEC)
        };
        #[allow(unused_variables)]
        let port = __isolate_guard.port(0);
        {}
    }
    mod nested {
        #[test]
        fn deep() {
            let __isolate_guard = {
                static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
                    test: ::core::concat!(::core::module_path!(), "::", "deep"),
                    ports: &[],
                    ports6: &[],
                    udp: &[],
                    udp6: &[],
                    reserved_ports: &[],
                    tmpdirs: &[],
                    serial: &["db"],
                    shared: &[],
                    max_sockets: 0,
                    timeout: ::core::option::Option::None,
                    expects_panic: false,
                };
                ::isolate::__private::enter(&SPEC)
            };
            {}
        }
    }
    #[allow(unused_imports)]
    use isolated as _;
}
