::core::compile_error! {
    "`max_sockets` must be at least 1"
}
#[test]
fn broken() {
    #![allow(unused_variables)]
    #[allow(unused_variables)]
    let port: ::isolate::__private::Port = ::isolate::__private::unavailable();
    let _ = port;
}
