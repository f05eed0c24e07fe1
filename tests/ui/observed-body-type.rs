use isolate::isolated;

// A body observed for its `Result` (a temp dir) that yields the wrong type: the error is on
// the body, as without the attribute, not on the attribute.
#[isolated(tmpdir)]
fn semicolon() -> Result<(), std::io::Error> {
    std::fs::write(tmpdir.join("f"), "x")?;
}

#[isolated(tmpdir)]
fn wrong_value() -> Result<u32, std::io::Error> {
    std::fs::write(tmpdir.join("f"), "x")?;
    Ok("x")
}

fn main() {}
