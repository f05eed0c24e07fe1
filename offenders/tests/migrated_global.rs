//! Migrated: the same settings tests, asserting the same values. Each writer runs in a process
//! of its own (`#[isolated(env, fresh_process)]`: under `cargo test` a child of the test binary,
//! under nextest the process it already has), so its variable is in the environment before
//! anything in that process asks for the settings. No `#[serial]`, no `unsafe`, nothing to
//! remove. The reader needs no process of its own: every writer's change stays in the writer's
//! process, and `env(read)` keeps any writer of this process away while it reads.

mod global;

use global::expect;
use isolate::isolated;

#[test]
#[isolated(env, fresh_process)]
fn global_log_debug() {
    isolate::vars::set("OFFENDERS_LOG", "debug").unwrap();
    expect("debug", "local");
}

#[test]
#[isolated(env, fresh_process)]
fn global_log_trace() {
    isolate::vars::set("OFFENDERS_LOG", "trace").unwrap();
    expect("trace", "local");
}

#[test]
#[isolated(env, fresh_process)]
fn global_region_eu() {
    isolate::vars::set("OFFENDERS_REGION", "eu-west").unwrap();
    expect("info", "eu-west");
}

#[test]
#[isolated(env(read))]
fn global_defaults() {
    expect("info", "local");
}
