use isolate::isolated;

// The guard is the macro's own local: user code cannot name it.
#[isolated(serial = "db")]
fn reaches_for_the_guard() {
    let _ = __isolate_guard;
}

fn main() {}
