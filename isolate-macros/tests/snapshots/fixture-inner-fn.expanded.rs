#[test]
fn exports() -> std::io::Result<()> {
    fn exports(
        #[allow(unused_variables)]
        tmpdir: ::isolate::__private::TmpDir,
    ) -> std::io::Result<()> {
        #![allow(unused_mut)]
        #[allow(unused_variables)]
        let db = ::isolate::__private::fixture_value(&DB);
        std::fs::write(tmpdir.join("url"), &db.url)
    }
    ::isolate::__private::fixture_feature!();
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "exports",
            )
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    let _ = ::isolate::__private::fixture(&__isolate_guard, &DB);
    __isolate_guard.finish(exports(tmpdir))
}
