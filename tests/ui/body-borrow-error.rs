use isolate::isolated;

// Issue 14: a borrow error in the body of a `-> Result` test with a temp dir points into the
// body, exactly as it would without the attribute.
#[isolated(tmpdir)]
fn borrows_badly() -> Result<(), String> {
    let mut names = vec![tmpdir.path().display().to_string()];
    let first = &names[0];
    names.push(String::new());
    println!("{first}");
    Ok(())
}

fn main() {}
