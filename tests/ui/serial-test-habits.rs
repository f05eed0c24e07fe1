use isolate::isolated;

#[isolated(serial)]
fn unnamed_group() {}

#[isolated(serial(ws, db))]
fn list_of_idents() {}

#[isolated(shared(cache))]
fn shared_list() {}

#[isolated(serial = ws)]
fn ident_value() {}


// Issue 15 item 16: the user's keys survive in every hint.
#[isolated(file_serial(x))]
fn file_serial_key() {}

#[isolated(parallel(a, b))]
fn parallel_keys() {}

#[isolated(file_parallel(cache))]
fn file_parallel_key() {}

fn main() {}
