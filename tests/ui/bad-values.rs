use isolate::isolated;

// Independent misuses of one attribute are all reported, each on its own token.
#[isolated(max_sockets = 0, timeout = "soon", serial = "", port = 8080)]
fn many_at_once() {}

#[isolated(max_sockets = 2000000)]
fn too_many_sockets() {}

#[isolated(max_sockets = "8")]
fn sockets_as_string() {}

#[isolated(timeout = 30)]
fn timeout_as_number() {}

#[isolated(timeout = "0s")]
fn zero_timeout() {}

#[isolated(shared = ["ok", "not ok"], tmpdir = "/tmp/x")]
fn bad_group_name() {}

#[isolated(port(), udp("a"))]
fn bad_binding_lists() {}

fn main() {}
