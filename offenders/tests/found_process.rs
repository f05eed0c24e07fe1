//! As found: configuration tests that set environment variables and change directory. Writers
//! share a hand-written `static Mutex`; a reader nobody guarded and a test that changes
//! directory without the lock race them under `cargo test` (threads of one process): the
//! first writer that sees a foreign variable panics while holding the mutex, and every later
//! writer fails with a `PoisonError` (one failure becomes a dozen), with the variables of the
//! failed writer leaked into the rest. Under nextest each test has its own process and all pass.
#![allow(unsafe_code)]

use std::sync::Mutex;

static ENV_LOCK: Mutex<()> = Mutex::new(());

/// The service's configuration, read from the environment and a file relative to the working
/// directory.
fn config() -> (String, u16, bool) {
    let mode = std::env::var("APP_MODE").unwrap_or_else(|_| "dev".into());
    let port = std::env::var("APP_PORT").map_or(8080, |p| p.parse().expect("APP_PORT is a number"));
    (mode, port, std::path::Path::new("Cargo.toml").exists())
}

fn writer(mode: &str) {
    let _lock = ENV_LOCK.lock().unwrap();
    // SAFETY: the static mutex is supposed to keep other tests from reading meanwhile.
    unsafe { std::env::set_var("APP_MODE", mode) };
    for _ in 0..2_000 {
        std::thread::yield_now();
    }
    assert_eq!(
        config(),
        (mode.to_owned(), 8080, true),
        "another test's configuration"
    );
    unsafe { std::env::remove_var("APP_MODE") };
}

macro_rules! writers {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            writer(stringify!($name));
        }
    )*};
}

writers!(
    env_mode_a, env_mode_b, env_mode_c, env_mode_d, env_mode_e, env_mode_f, env_mode_g, env_mode_h,
    env_mode_i, env_mode_j, env_mode_k, env_mode_l
);

/// Forgot the lock: "it only sets a port".
#[test]
fn env_custom_port() {
    unsafe { std::env::set_var("APP_PORT", "9090") };
    for _ in 0..20_000 {
        std::thread::yield_now();
    }
    assert_eq!(config().1, 9090);
    unsafe { std::env::remove_var("APP_PORT") };
}

/// Changes directory to read a fixture, without any lock.
#[test]
fn env_reads_fixture_dir() {
    let dir = std::env::temp_dir();
    let back = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir).unwrap();
    for _ in 0..20_000 {
        std::thread::yield_now();
    }
    assert!(!std::path::Path::new("Cargo.toml").exists());
    std::env::set_current_dir(back).unwrap();
}
