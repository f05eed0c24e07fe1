use isolate::isolated;

#[isolated(env(write))]
fn env_takes_read_only() {}

#[isolated(cwd = "/tmp")]
fn cwd_takes_no_value() {}

#[isolated(env[read])]
fn brackets() {}

#[isolated(fresh_process(always))]
fn fresh_takes_nothing() {}

#[isolated(environment, fork)]
fn close_spellings() {}

#[isolated(fresh_process)]
fn opaque_return() -> impl std::process::Termination {}

fn main() {}
