use isolate::isolated;

// A second attribute on one item adds to the first, so a name bound by both is bound twice.
#[isolated(port, tmpdir)]
#[isolated(port(api), tmpdir)]
fn binds_twice() {}

#[isolated(serial = "a")]
#[isolated(shared = "a")]
fn serial_and_shared_across_attributes() {}

fn main() {}
