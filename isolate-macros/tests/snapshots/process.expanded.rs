#[test]
#[should_panic(expected = "boom")]
fn configures() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "configures",
            )
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"])
            .serial(&["ws"])
            .expects_panic_containing("boom")
            .env(::isolate::__private::Access::Write)
            .cwd(::isolate::__private::Access::Read)
            .fresh_process();
        if let ::core::option::Option::Some(passed) = ::isolate::__private::fork(&SPEC) {
            return passed;
        }
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    std::env::set_var("MODE", "test");
    panic!("boom");
}
