#[test]
fn reconnects() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
            test: ::core::concat!(::core::module_path!(), "::", "reconnects"),
            ports: &["port"],
            ports6: &[],
            udp: &[],
            udp6: &[],
            reserved_ports: &[],
            tmpdirs: &[],
            serial: &["ws"],
            shared: &[],
            max_sockets: 0,
            timeout: ::core::option::Option::None,
            expects_panic: false,
        };
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = __isolate_guard.port(0);
    {
        assert!(true);
    }
}
