use isolate::isolated;

#[isolated(serial = "db")]
#[path = "file-module/inner.rs"]
mod tests;

fn main() {}
