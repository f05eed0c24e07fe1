use isolate::isolated;

#[isolated(env, env(read))]
fn env_twice() {}

#[isolated(cwd(read), cwd)]
fn cwd_twice() {}

#[isolated(fresh_process, fresh_process)]
fn fresh_twice() {}

#[isolated(env(read, read))]
fn read_twice() {}

#[isolated(env())]
fn empty_parens() {}

#[isolated(env(Read))]
fn capital_read() {}

#[isolated(fresh_process = true)]
fn fresh_with_a_value() {}

#[isolated(env(read = true))]
fn read_with_a_value() {}

fn main() {}
