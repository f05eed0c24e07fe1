#[tokio::test]
async fn serves() -> Result<(), String> {
    async fn serves(
        #[allow(unused_variables)]
        port: ::isolate::__private::Port,
        #[allow(unused_variables)]
        tmpdir: ::isolate::__private::TmpDir,
    ) -> Result<(), String> {
        Ok(())
    }
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "serves",
            )
            .bind(::isolate::__private::Resource::Port, &["port"])
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"])
            .timeout(::core::time::Duration::from_millis(90000));
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    __isolate_guard.finish(serves(port, tmpdir).await)
}
