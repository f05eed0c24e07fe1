#[test]
#[allow(unused_mut)]
fn exports() -> std::io::Result<()> {
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
    #[allow(unused_variables)]
    let db = ::isolate::__private::fixture(&__isolate_guard, &DB);
    #[allow(unused_braces)]
    let __isolate_outcome = ::isolate::__private::run(move || {
        if let ::core::option::Option::Some(__isolate_returned) = ::core::option::Option::None::<
            std::io::Result<()>,
        > {
            return __isolate_returned;
        }
        let _ = &tmpdir;
        { std::fs::write(tmpdir.join("url"), &db.url) }
    });
    {
        #[allow(unused_imports)]
        use ::isolate::__private::{ObserveAny as _, ObserveOutcome as _};
        (&::isolate::__private::Observe(&__isolate_outcome)).observe(__isolate_guard);
    }
    __isolate_outcome
}
