//! One of two test binaries sharing one `redis-server` per run (see `redis_support`).

mod redis_support;

use isolate::{isolated, Fixture, InitError, Setup};
use redis_support::{start_with, Redis, INSTALL, REDIS};

#[test]
#[isolated(fixture(redis = REDIS))]
fn migrated_once_for_the_run() {
    assert_eq!(redis.command(&["GET", "schema_version"]).unwrap(), "7");
}

#[test]
#[isolated(fixture(redis = REDIS))]
fn stores_users() {
    let key = format!("user:{}", std::process::id());
    assert_eq!(redis.command(&["SET", &key, "alice"]).unwrap(), "OK");
    assert_eq!(redis.command(&["GET", &key]).unwrap(), "alice");
}

fn start_missing(setup: &mut Setup) -> Result<Redis, InitError> {
    start_with("redis-server-not-installed", setup)
}

static MISSING: Fixture<Redis> = Fixture::new("redis-missing", start_missing);

#[test]
fn a_missing_server_names_the_install_command() {
    let error = MISSING.get().unwrap_err().to_string();
    assert!(
        error.contains(&format!(
            "`redis-server-not-installed` is not installed: install it with {INSTALL}"
        )),
        "{error}"
    );
}
