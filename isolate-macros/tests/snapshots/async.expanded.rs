#[tokio::test]
async fn serves() -> Result<(), String> {
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
    #[allow(unused_braces)]
    let __isolate_outcome = async move {
        if let ::core::option::Option::Some(__isolate_returned) = ::core::option::Option::None::<
            Result<(), String>,
        > {
            return __isolate_returned;
        }
        let _ = &port;
        let _ = &tmpdir;
        { Ok(()) }
    }
        .await;
    {
        #[allow(unused_imports)]
        use ::isolate::__private::{ObserveAny as _, ObserveOutcome as _};
        (&::isolate::__private::Observe(&__isolate_outcome)).observe(__isolate_guard);
    }
    __isolate_outcome
}
