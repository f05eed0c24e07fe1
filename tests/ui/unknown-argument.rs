use isolate::isolated;

#[isolated(prot)]
fn close_spelling() {}

#[isolated(tempdir)]
fn other_crates_spelling() {}

#[isolated(banana)]
fn unknown() {}

#[isolated(parallel)]
fn serial_test_parallel() {}

#[isolated(file_serial)]
fn serial_test_file_serial() {}

#[isolated(isolate::port)]
fn path_key() {}

fn main() {}
