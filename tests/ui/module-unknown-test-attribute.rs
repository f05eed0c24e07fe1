use isolate::isolated;

// Issue 15 item 9: a function whose attribute looks like a test's but is none `#[isolated]`
// knows would run without the module's group: an error, not a silent skip.
#[isolated(serial = "db")]
mod tests {
    #[cfg_attr(any(), integration_test)]
    fn unknown_family() {}

    #[test]
    fn known() {}

    fn helper() {}
}

fn main() {}
