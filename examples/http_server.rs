//! A real server nobody here wrote, as a test's child: `python3 -m http.server` on a reserved
//! port, waited for with `ready::http`, stopped when the `Child` drops.
//!
//! `cargo run --example http_server` serves this directory once and asks for a file;
//! `cargo test --example http_server` runs the same as a test. Where `python3` is missing,
//! both say so and skip.

use std::process::Command;

use isolate::{ready, Child, ReservedPort};

/// Whether `python3` can be started here.
fn python3() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Serves `dir` on `port` with python, waits until it serves `hello.txt`, then stops it.
fn serve_and_fetch(dir: &std::path::Path, port: &ReservedPort) -> Result<(), isolate::Error> {
    // A `ReservedPort` is the way to hand a number to a program that binds it itself.
    let server = Child::spawn(
        Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.port().to_string())
            .current_dir(dir),
    )?;
    // Ready when the file is served: no sleep, and a clear error if python fails to start.
    server.wait_ready(
        ready::http(format!("http://127.0.0.1:{}/hello.txt", port.port()))
            .body_contains("hello from isolate")
            .within("30s"),
    )?;
    println!(
        "python3 http.server (pid {}) served hello.txt",
        server.pid()
    );
    Ok(())
    // `server` drops here: SIGTERM, then reaped; it never outlives this function.
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if !python3() {
        println!(
            "skipped: python3 is not installed, and this example runs `python3 -m http.server`"
        );
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("hello.txt"), "hello from isolate\n")?;
    let port = ReservedPort::reserve()?;
    serve_and_fetch(dir.path(), &port)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use isolate::isolated;

    #[test]
    #[isolated(reserved_port, tmpdir)]
    fn python_serves_a_file_once_ready() {
        if !python3() {
            eprintln!(
                "skipped: python3 is not installed, and this test runs `python3 -m http.server`"
            );
            return;
        }
        std::fs::write(tmpdir.join("hello.txt"), "hello from isolate\n").unwrap();
        serve_and_fetch(tmpdir.as_ref(), &reserved_port).unwrap();
    }
}
