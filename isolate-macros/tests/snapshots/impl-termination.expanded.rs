#[test]
fn terminates() -> impl std::process::Termination {
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "terminates",
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
        let _ = &tmpdir;
        { std::process::ExitCode::SUCCESS }
    });
    __isolate_guard.finish_termination(__isolate_outcome)
}
