use isolate::isolated;

// Issue 15 item 11: spellings that used to compile and mean nothing, or something else.
#[isolated(serial = [], shared = [])]
fn empty_group_lists() {}

#[isolated(port[a], tmpdir{d})]
fn lists_in_brackets_and_braces() {}

#[isolated(max_sockets = 300u8)]
fn suffixed_integer() {}

#[isolated(max_sockets = 0x40)]
fn hex_integer() {}

#[isolated(max_sockets = -1)]
fn negative_integer() {}

#[isolated(port)]
fn clashes_inside_a_pattern((port, b): (u8, u8)) {
    let _ = (port, b);
}

fn main() {}
