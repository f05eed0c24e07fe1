use isolate::isolated;

#[isolated(port, serial = "db")]
mod tests {
    use super::isolated;

    #[test]
    #[isolated(port, shared = "db")]
    fn conflicts_with_the_module() {}

    #[test]
    #[isolated(tmpdir(data))]
    fn fine() {
        let _ = (&port, &data);
    }
}

fn main() {}
