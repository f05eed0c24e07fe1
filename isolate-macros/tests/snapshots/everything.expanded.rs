#[test]
#[should_panic]
pub fn everything() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "everything",
            )
            .bind(::isolate::__private::Resource::Port, &["port"])
            .bind(::isolate::__private::Resource::Port6, &["v6"])
            .bind(::isolate::__private::Resource::Udp, &["udp"])
            .bind(::isolate::__private::Resource::Udp6, &["u6"])
            .bind(::isolate::__private::Resource::ReservedPort, &["reserved_port"])
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"])
            .serial(&["ws", "db"])
            .shared(&["cache"])
            .max_sockets(64)
            .timeout(::core::time::Duration::from_millis(30000))
            .expects_panic();
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    #[allow(unused_variables)]
    let v6 = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port6, 0);
    #[allow(unused_variables)]
    let udp = ::isolate::__private::take::<
        ::isolate::__private::UdpPort,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Udp, 0);
    #[allow(unused_variables)]
    let u6 = ::isolate::__private::take::<
        ::isolate::__private::UdpPort,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Udp6, 0);
    #[allow(unused_variables)]
    let reserved_port = ::isolate::__private::take::<
        ::isolate::__private::ReservedPort,
    >(&mut __isolate_guard, ::isolate::__private::Resource::ReservedPort, 0);
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
}
