#[test]
#[::serial_test::parallel(cache)]
#[::serial_test::serial(db_1)]
#[::serial_test::parallel]
#[::serial_test::serial(ws)]
fn bridged() {
    let __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "bridged",
            )
            .serial(&["ws", "db-1"])
            .shared(&["default", "cache"]);
        ::isolate::__private::enter(&SPEC)
    };
}
