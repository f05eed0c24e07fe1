//! What migrating real suites (`tiny_http`, `which`, `env_proxy`) to `#[isolated]` ran into, one test
//! per defect found, each failing before its fix.

#![cfg(unix)]

use isolate::isolated;

/// tiny-http's `unix_basic_handling` bound `/tmp/tiny-http-test.sock`: two runs at once took
/// the same socket (35 failures in 100 runs of two at once). The audit's fix is `tmpdir`, and a
/// Unix socket's path has at most 107 bytes (`sun_path`): the directory of a test in a module,
/// named after it in full, left too few for the socket's own name.
mod prompt_pipelining {
    use super::isolated;
    use std::os::unix::net::{UnixListener, UnixStream};

    #[test]
    #[isolated(tmpdir)]
    fn serves_a_request_over_a_unix_socket_in_its_temp_dir() {
        let path = tmpdir.join("tiny-http-test.sock");
        let listener = UnixListener::bind(&path).unwrap_or_else(|e| {
            panic!("{} ({} bytes): {e}", path.display(), path.as_os_str().len())
        });
        UnixStream::connect(&path).unwrap();
        listener.accept().unwrap();
    }
}
