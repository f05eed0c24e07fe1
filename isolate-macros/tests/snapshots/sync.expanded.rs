#[test]
fn reconnects() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "reconnects",
            )
            .bind(::isolate::__private::Resource::Port, &["port"])
            .serial(&["ws"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    assert!(true);
}
