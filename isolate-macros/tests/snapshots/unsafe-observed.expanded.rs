pub unsafe extern "C" fn copies(byte: *const u8) -> std::io::Result<()> {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "copies",
            )
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    #[allow(unused_braces)]
    let __isolate_outcome = ::isolate::__private::run(move || {
        if let ::core::option::Option::Some(__isolate_returned) = ::core::option::Option::None::<
            std::io::Result<()>,
        > {
            return __isolate_returned;
        }
        let _ = &tmpdir;
        { std::fs::write(tmpdir.join("byte"), [*byte]) }
    });
    {
        #[allow(unused_imports)]
        use ::isolate::__private::{ObserveAny as _, ObserveOutcome as _};
        (&::isolate::__private::Observe(&__isolate_outcome)).observe(__isolate_guard);
    }
    __isolate_outcome
}
