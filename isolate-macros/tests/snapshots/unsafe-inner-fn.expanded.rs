pub unsafe extern "C" fn copies(byte: *const u8) -> std::io::Result<()> {
    unsafe fn copies(
        #[allow(unused_variables)]
        tmpdir: ::isolate::__private::TmpDir,
        byte: *const u8,
    ) -> std::io::Result<()> {
        std::fs::write(tmpdir.join("byte"), [*byte])
    }
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
    __isolate_guard.finish(unsafe { copies(tmpdir, byte) })
}
