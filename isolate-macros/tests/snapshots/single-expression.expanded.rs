#[test]
fn serves() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "serves",
            )
            .bind(::isolate::__private::Resource::Port, &["port"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    assert!(port.port() > 0)
}
