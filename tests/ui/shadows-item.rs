#![allow(non_upper_case_globals)]
use isolate::isolated;

// A binding is a `let`: a const, static or unit struct of its name in scope makes it a
// pattern, not a new name. The error points at the binding's name in the attribute.
const tmpdir: &str = "/tmp/fixed";
static port: u16 = 8080;

#[isolated(tmpdir)]
fn shadows_a_const() {}

#[isolated(port)]
fn shadows_a_static() {}

fn main() {}
