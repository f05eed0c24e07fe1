mod tests {
    fn helper() {}
    #[test]
    fn plain() {
        let __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                    ::core::module_path!(),
                    "plain",
                )
                .serial(&["db"]);
            ::isolate::__private::enter(&SPEC)
        };
    }
    #[test]
    fn own() {
        let mut __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                    ::core::module_path!(),
                    "own",
                )
                .bind(::isolate::__private::Resource::Port, &["port"])
                .serial(&["db"]);
            ::isolate::__private::enter(&SPEC)
        };
        #[allow(unused_variables)]
        let port = ::isolate::__private::take::<
            ::isolate::__private::Port,
        >(&mut __isolate_guard, ::isolate::__private::Resource::Port, 0);
    }
    #[test_case::test_matrix([1, 2])]
    fn matrix(n: u8) {
        let __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                    ::core::module_path!(),
                    "matrix",
                )
                .serial(&["db"]);
            ::isolate::__private::enter(&SPEC)
        };
    }
    #[cfg_attr(test, test)]
    fn wrapped() {
        let __isolate_guard = {
            static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                    ::core::module_path!(),
                    "wrapped",
                )
                .serial(&["db"]);
            ::isolate::__private::enter(&SPEC)
        };
    }
    mod nested {
        use super::isolated;
        #[test]
        fn deep() {
            let __isolate_guard = {
                static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                        ::core::module_path!(),
                        "deep",
                    )
                    .serial(&["db"]);
                ::isolate::__private::enter(&SPEC)
            };
        }
        #[test]
        fn deeper() {
            let mut __isolate_guard = {
                static SPEC: ::isolate::__private::Spec = ::isolate::__private::Spec::for_test(
                        ::core::module_path!(),
                        "deeper",
                    )
                    .bind(::isolate::__private::Resource::TmpDir, &["tmpdir"])
                    .serial(&["db"]);
                ::isolate::__private::enter(&SPEC)
            };
            #[allow(unused_variables)]
            let tmpdir = ::isolate::__private::take::<
                ::isolate::__private::TmpDir,
            >(&mut __isolate_guard, ::isolate::__private::Resource::TmpDir, 0);
        }
        #[allow(unused_imports)]
        use isolated as _;
    }
}
