#[test]
fn writes() -> std::io::Result<()> {
    fn writes(
        #[allow(unused_variables)]
        data: ::isolate::__private::TmpDir,
        #[allow(unused_variables)]
        logs: ::isolate::__private::TmpDir,
    ) -> std::io::Result<()> {
        #![allow(unused_variables)]
        std::fs::write(data.join("x"), "y")?;
        Ok(())
    }
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "writes",
            )
            .bind(::isolate::__private::Resource::TmpDir, &["data", "logs"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let data = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    #[allow(unused_variables)]
    let logs = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 1);
    __isolate_guard.finish(writes(data, logs))
}
