#[test]
#[allow(unused_variables)]
fn quiet() {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "quiet",
            )
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"])
            .serial(&["ws"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    let unused = 1;
}
