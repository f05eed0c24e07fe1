#[rstest]
#[case(1, (2, 3))]
fn cases<T: Copy>(
    #[case]
    n: u8,
    #[case]
    __isolate_arg1: (u8, u8),
    #[values(1)]
    t: T,
) -> Result<(), String>
where
    T: Default,
{
    fn cases<T: Copy>(
        #[allow(unused_variables)]
        tmpdir: ::isolate::__private::TmpDir,
        #[allow(unused_variables)]
        port: ::isolate::__private::Port,
        mut n: u8,
        (a, b): (u8, u8),
        t: T,
    ) -> Result<(), String>
    where
        T: Default,
    {
        n += a + b;
        Ok(())
    }
    let mut __isolate_guard = {
        static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                ::core::module_path!(),
                "cases",
            )
            .bind(::isolate::__private::Resource::Port, &["port"])
            .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"]);
        ::isolate::__private::enter(&SPEC)
    };
    #[allow(unused_variables)]
    let tmpdir = ::isolate::__private::take::<
        ::isolate::__private::TmpDir,
    >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
    #[allow(unused_variables)]
    let port = ::isolate::__private::take::<
        ::isolate::__private::Port,
    >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    __isolate_guard.finish(cases::<T>(tmpdir, port, n, __isolate_arg1, t))
}
