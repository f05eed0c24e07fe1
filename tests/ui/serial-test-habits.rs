use isolate::isolated;

#[isolated(serial)]
fn unnamed_group() {}

#[isolated(serial(ws, db))]
fn list_of_idents() {}

#[isolated(shared(cache))]
fn shared_list() {}

#[isolated(serial = ws)]
fn ident_value() {}

fn main() {}
