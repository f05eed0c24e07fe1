#[test]
fn reads_users() {
    ::isolate::__private::fixture_feature!();
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "reads_users",
            )
            .bind(::isolate::__private::Resource::Port, &["port"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    #[allow(unused_variables)]
    let db = ::isolate::__private::fixture(&__isolate_guard, &DB);
    #[allow(unused_variables)]
    let cache = ::isolate::__private::fixture(&__isolate_guard, &crate::fixtures::CACHE);
    assert!(db.url.starts_with("postgres://"));
}
