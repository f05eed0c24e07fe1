use isolate::isolated;

#[isolated(port, port)]
fn same_key_twice() {}

#[isolated(serial = "db", shared = "db")]
fn serial_and_shared() {}

#[isolated(port(data), tmpdir(data))]
fn same_binding_name() {}

#[isolated(serial = ["ws", "ws"])]
fn same_group_twice() {}

fn main() {}
