//! The other of two test binaries sharing one `redis-server` per run (see `redis_support`).

mod redis_support;

use isolate::isolated;
use redis_support::REDIS;

#[test]
#[isolated(fixture(redis = REDIS))]
fn stores_sessions() {
    assert_eq!(redis.command(&["GET", "schema_version"]).unwrap(), "7");
    let key = format!("session:{}", std::process::id());
    assert_eq!(redis.command(&["INCR", &key]).unwrap(), "1");
    assert_eq!(redis.command(&["INCR", &key]).unwrap(), "2");
}

#[test]
fn the_same_server_for_every_test_of_the_run() {
    let first = REDIS.get().unwrap();
    assert_eq!(first.command(&["PING"]).unwrap(), "PONG");
    assert!(std::ptr::eq(first, REDIS.get().unwrap()));
}
