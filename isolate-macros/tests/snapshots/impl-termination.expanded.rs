#[test]
fn terminates() -> impl std::process::Termination {
    fn terminates(
        #[allow(unused_variables)]
        tmpdir: ::isolate::__private::TmpDir,
    ) -> impl std::process::Termination {
        std::process::ExitCode::SUCCESS
    }
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
    __isolate_guard.finish_termination(terminates(tmpdir))
}
