#[tokio::test]
async fn serves() -> Result<(), String> {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
            test: ::core::concat!(::core::module_path!(), "::", "serves"),
            ports: &["port"],
            ports6: &[],
            udp: &[],
            udp6: &[],
            reserved_ports: &[],
            tmpdirs: &["tmpdir"],
            serial: &[],
            shared: &[],
            max_sockets: 0,
            timeout: ::core::option::Option::Some(
                ::core::time::Duration::from_millis(90000),
            ),
            expects_panic: false,
        };
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = __isolate_guard.port(0);
    #[allow(unused_variables)]
    let tmpdir = __isolate_guard.tmpdir(0);
    __isolate_guard.finish(async move { Ok(()) }.await)
}
