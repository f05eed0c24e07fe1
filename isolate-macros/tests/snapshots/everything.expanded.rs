#[test]
#[should_panic]
pub fn everything() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
            test: ::core::concat!(::core::module_path!(), "::", "everything"),
            ports: &["port"],
            ports6: &["v6"],
            udp: &["udp"],
            udp6: &["u6"],
            reserved_ports: &["reserved_port"],
            tmpdirs: &["tmpdir"],
            serial: &["ws", "db"],
            shared: &["cache"],
            max_sockets: 64,
            timeout: ::core::option::Option::Some(
                ::core::time::Duration::from_millis(30000),
            ),
            expects_panic: true,
        };
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = __isolate_guard.port(0);
    #[allow(unused_variables)]
    let v6 = __isolate_guard.port6(0);
    #[allow(unused_variables)]
    let udp = __isolate_guard.udp(0);
    #[allow(unused_variables)]
    let u6 = __isolate_guard.udp6(0);
    #[allow(unused_variables)]
    let reserved_port = __isolate_guard.reserved_port(0);
    #[allow(unused_variables)]
    let tmpdir = __isolate_guard.tmpdir(0);
    {}
}
