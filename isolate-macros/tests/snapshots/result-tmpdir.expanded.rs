#[test]
fn writes() -> std::io::Result<()> {
    let __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec {
            test: ::core::concat!(::core::module_path!(), "::", "writes"),
            ports: &[],
            ports6: &[],
            udp: &[],
            udp6: &[],
            reserved_ports: &[],
            tmpdirs: &["data", "logs"],
            serial: &[],
            shared: &[],
            max_sockets: 0,
            timeout: ::core::option::Option::None,
            expects_panic: false,
        };
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let data = __isolate_guard.tmpdir(0);
    #[allow(unused_variables)]
    let logs = __isolate_guard.tmpdir(1);
    __isolate_guard
        .finish(
            (move || -> std::io::Result<()> {
                std::fs::write(data.join("x"), "y")?;
                Ok(())
            })(),
        )
}
