mod tests {
    use isolate::isolated;
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
        {}
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
        {}
    }
    mod nested {
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
            {}
        }
    }
    #[allow(unused_imports)]
    use isolated as _;
}
