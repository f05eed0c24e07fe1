//! Migrated: the same configuration tests with `#[isolated(env)]`, `env(read)` and `cwd`. No
//! static mutex, no `unsafe`, nothing to poison; every writer's variables and directory are put
//! back when it ends, so nothing leaks between tests, under every runner.

use isolate::isolated;

fn config() -> (String, u16, bool) {
    let mode = std::env::var("APP_MODE").unwrap_or_else(|_| "dev".into());
    let port = std::env::var("APP_PORT").map_or(8080, |p| p.parse().expect("APP_PORT is a number"));
    (mode, port, std::path::Path::new("Cargo.toml").exists())
}

#[isolated(env, cwd(read))]
fn writer(mode: &str) {
    isolate::vars::set("APP_MODE", mode).unwrap();
    for _ in 0..2_000 {
        std::thread::yield_now();
    }
    assert_eq!(
        config(),
        (mode.to_owned(), 8080, true),
        "another test's configuration"
    );
    // No removal: the attribute puts the variable back.
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

#[test]
#[isolated(env)]
fn env_custom_port() {
    isolate::vars::set("APP_PORT", "9090").unwrap();
    for _ in 0..20_000 {
        std::thread::yield_now();
    }
    assert_eq!(config().1, 9090);
}

#[test]
#[isolated(cwd)]
fn env_reads_fixture_dir() {
    std::env::set_current_dir(std::env::temp_dir()).unwrap();
    for _ in 0..20_000 {
        std::thread::yield_now();
    }
    assert!(!std::path::Path::new("Cargo.toml").exists());
}

/// Nothing leaked: whenever it runs, no writer's variable or directory is visible.
#[test]
#[isolated(env(read), cwd(read))]
fn env_nothing_leaked() {
    assert_eq!(config(), ("dev".to_owned(), 8080, true));
}
