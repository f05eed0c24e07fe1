use isolate::isolated;

#[isolated(port)]
struct NotAFunction;

#[isolated(port)]
const fn constant() {}

struct Server;

impl Server {
    #[isolated(port)]
    fn method(&self) {}
}

#[isolated(port)]
fn clashes(port: u16) {
    let _ = port;
}

fn main() {}
