use isolate::isolated;

#[isolated(port)]
struct NotAFunction;

#[isolated(port)]
const fn constant() {}

#[isolated(port)]
fn clashes(port: u16) {
    let _ = port;
}

fn main() {}
