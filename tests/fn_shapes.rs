//! Every fn shape that compiles without `#[isolated]` compiles with it, also where the guard
//! observes the outcome (a temp dir and a `Result`): associated fns that name `Self` or the
//! impl's generics, recursion, borrowed and boxed returns, `impl Trait`, async. Each body uses
//! its temp dir, and a failing outcome still keeps it.
#![allow(dead_code, clippy::unnecessary_wraps)]

use std::fmt::{Debug, Display};
use std::fs;
use std::path::PathBuf;

use isolate::isolated;

struct Store;

impl Store {
    fn file() -> &'static str {
        "store"
    }

    /// `Self` in an observed body, and a recursive call that must reach this fn (two
    /// arguments), not a fn the expansion made.
    #[isolated(tmpdir)]
    fn write(fail: bool, depth: u8) -> Result<PathBuf, PathBuf> {
        if depth > 0 {
            return Self::write(fail, depth - 1);
        }
        fs::write(tmpdir.join(Self::file()), "x").map_err(|_| tmpdir.path().to_owned())?;
        if fail {
            return Err(tmpdir.path().to_owned());
        }
        Ok(tmpdir.path().to_owned())
    }

    #[isolated(tmpdir)]
    async fn write_async(fail: bool) -> Result<PathBuf, PathBuf> {
        tokio::fs::write(tmpdir.join(Self::file()), "x")
            .await
            .map_err(|_| tmpdir.path().to_owned())?;
        if fail {
            return Err(tmpdir.path().to_owned());
        }
        Ok(tmpdir.path().to_owned())
    }
}

#[test]
fn an_associated_fn_names_self_and_keeps_its_dir_on_err() {
    let removed = Store::write(false, 2).unwrap();
    assert!(!removed.exists(), "{}", removed.display());
    let kept = Store::write(true, 1).unwrap_err();
    assert!(kept.join("store").is_file(), "{}", kept.display());
    fs::remove_dir_all(kept).unwrap();
}

#[tokio::test]
async fn an_async_associated_fn_names_self_and_keeps_its_dir_on_err() {
    let removed = Store::write_async(false).await.unwrap();
    assert!(!removed.exists(), "{}", removed.display());
    let kept = Store::write_async(true).await.unwrap_err();
    assert!(kept.join("store").is_file(), "{}", kept.display());
    fs::remove_dir_all(kept).unwrap();
}

trait Named {
    const NAME: &'static str;
}

struct Data;

impl Named for Data {
    const NAME: &'static str = "data";
}

struct Holder<T>(T);

/// The impl's own generic parameter and its bound, in an associated fn's observed body.
impl<T: Named + Default> Holder<T> {
    #[isolated(tmpdir)]
    fn create() -> std::io::Result<Self> {
        fs::write(tmpdir.join(T::NAME), "x")?;
        Ok(Self(T::default()))
    }
}

impl Default for Data {
    fn default() -> Self {
        Data
    }
}

#[test]
fn an_associated_fn_reads_the_impls_generics() {
    let Holder(Data) = Holder::<Data>::create().unwrap();
}

trait Shape {
    fn sides(&self) -> u8;
}

struct Square;

impl Shape for Square {
    fn sides(&self) -> u8 {
        4
    }
}

/// `Box::new(Square)` becomes a `Box<dyn Shape>` only where the return type is known.
#[isolated(tmpdir)]
fn boxed(early: bool) -> std::io::Result<Box<dyn Shape>> {
    fs::write(tmpdir.join("f"), "x")?;
    if early {
        return Ok(Box::new(Square));
    }
    Ok(Box::new(Square))
}

/// The closure's parameter type comes from the return type.
#[isolated(tmpdir)]
fn closure(step: u8) -> std::io::Result<Box<dyn Fn(u8) -> u8>> {
    fs::write(tmpdir.join("f"), "x")?;
    Ok(Box::new(move |x| x + step))
}

/// An elided lifetime in the return type, tied to the argument.
#[isolated(tmpdir)]
fn borrowed(text: &str) -> std::io::Result<&str> {
    fs::write(tmpdir.join("f"), text)?;
    Ok(text.trim())
}

/// `impl Trait` as an argument and inside the return type.
#[isolated(tmpdir)]
fn opaque(value: impl Display + 'static) -> Result<impl Display, String> {
    fs::write(tmpdir.join("f"), value.to_string()).map_err(|error| error.to_string())?;
    Ok(value)
}

#[isolated(tmpdir)]
async fn boxed_async() -> std::io::Result<Box<dyn Shape>> {
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(Box::new(Square))
}

#[tokio::test]
async fn return_types_that_guide_the_body() {
    assert_eq!(boxed(true).unwrap().sides(), 4);
    assert_eq!(boxed(false).unwrap().sides(), 4);
    assert_eq!(closure(2).unwrap()(1), 3);
    assert_eq!(borrowed(" a ").unwrap(), "a");
    assert_eq!(opaque(5).unwrap().to_string(), "5");
    assert_eq!(boxed_async().await.unwrap().sides(), 4);
}

/// An inner attribute is the fn's, also where `serial_test` (the `serial_test` feature's
/// bridge) moves the body into a closure of its own, where none is permitted.
#[test]
#[isolated(port, serial = "fn-shapes-inner")]
fn inner_attribute_beside_a_serial_group() {
    #![allow(unused_variables)]
    let never_read = port.port();
}

#[test]
#[isolated(tmpdir, serial = "fn-shapes-inner")]
fn observed_inner_attribute_beside_a_serial_group() -> std::io::Result<()> {
    #![allow(unused_variables)]
    let never_read = 1;
    fs::write(tmpdir.join("f"), "x")
}

/// A helper returning a value that is no outcome (neither a `Result` nor an `ExitCode`): only
/// a panic fails it, as without a temp dir.
#[isolated(tmpdir)]
fn checksum(text: &str) -> u64 {
    fs::write(tmpdir.join("f"), text).unwrap();
    fs::read(tmpdir.join("f")).unwrap().len() as u64
}

#[isolated(tmpdir)]
fn optional(text: &str) -> Option<PathBuf> {
    fs::write(tmpdir.join("f"), text).ok()?;
    Some(tmpdir.path().to_owned())
}

/// Whether `T` is an outcome is not known here: it is none.
#[isolated(tmpdir)]
fn made<T: Default>() -> T {
    fs::write(tmpdir.join("f"), "x").unwrap();
    T::default()
}

#[test]
fn a_value_that_is_no_outcome() {
    assert_eq!(checksum("abc"), 3);
    let dir = optional("x").unwrap();
    assert!(!dir.exists(), "{}", dir.display());
    assert_eq!(made::<u8>(), 0);
}

/// Signatures a demanding suite writes, observed: where clauses, named lifetimes, every
/// parameter pattern, `#[track_caller]`, tokio above and below, labels, `extern "C"`; and an
/// async fn whose parameter is `Send` but not `Sync` stays `Send`.
#[isolated(tmpdir)]
fn generic_where<T, U>(t: T, u: &U) -> Result<String, std::io::Error>
where
    T: Debug + Clone,
    U: Debug + ?Sized,
{
    fs::write(tmpdir.join("f"), format!("{t:?}{u:?}"))?;
    Ok(format!("{:?}", t.clone()))
}

#[isolated(tmpdir)]
fn lifetimes<'a, 'b: 'a>(x: &'a str, _y: &'b str) -> Result<&'a str, std::io::Error> {
    fs::write(tmpdir.join("f"), x)?;
    Ok(x)
}

#[isolated(port)]
extern "C" fn extern_c_unobserved() -> u16 {
    port.port()
}

#[isolated(tmpdir)]
#[must_use]
#[track_caller]
fn attrs_helper() -> Result<u8, std::io::Error> {
    fs::write(tmpdir.join("f"), "x")?;
    Ok(1)
}

#[isolated(tmpdir)]
#[tokio::test]
async fn tokio_below() -> Result<(), std::io::Error> {
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(())
}

#[tokio::test]
#[isolated(tmpdir)]
async fn tokio_above() -> Result<(), std::io::Error> {
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[isolated(tmpdir)]
async fn tokio_above_multi() -> Result<(), std::io::Error> {
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(())
}

struct P {
    x: u8,
    y: u8,
}
struct W(u8);

#[allow(clippy::too_many_arguments)]
#[isolated(tmpdir)]
fn every_argument(
    plain: u8,
    mut changed: u8,
    (a, b): (u8, u8),
    P { x, .. }: P,
    W(w): W,
    [first, .., last]: [u8; 3],
    &r: &u8,
    by_ref: &str,
    _: u8,
    #[allow(unused_variables)] unused: u8,
    f: impl Fn(u8) -> u8,
) -> Result<u8, std::io::Error> {
    changed += 1;
    fs::write(tmpdir.join("f"), by_ref.as_bytes())?;
    Ok(f(plain + changed + a + b + x + w + first + last + r))
}

#[isolated(tmpdir)]
fn labelled() -> Result<u8, std::io::Error> {
    let n = 'outer: loop {
        for i in 0..3 {
            if i == 2 {
                break 'outer i;
            }
        }
    };
    fs::write(tmpdir.join("f"), "x")?;
    Ok(n)
}

#[isolated(tmpdir)]
async fn async_send_with_a_cell(cell: std::cell::Cell<u8>) -> Result<u8, std::io::Error> {
    tokio::fs::write(tmpdir.join("f"), "x").await?;
    Ok(cell.get())
}

fn assert_send<T: Send>(_: T) {}

#[test]
fn signatures_a_suite_writes() {
    assert_eq!(generic_where(1u8, "s").unwrap(), "1");
    assert_eq!(lifetimes("a", "b").unwrap(), "a");
    assert_ne!(extern_c_unobserved(), 0);
    assert_eq!(attrs_helper().unwrap(), 1);
    let point = P { x: 1, y: 0 };
    let sum = every_argument(1, 1, (1, 1), point, W(1), [1, 0, 1], &1, "", 0, 0, |v| v);
    assert_eq!(sum.unwrap(), 10);
    assert_eq!(labelled().unwrap(), 2);
    assert_send(async_send_with_a_cell(std::cell::Cell::new(1)));
}

/// An opaque return type that is no `impl Termination` (a helper's iterator): not observed,
/// as nothing but a panic can fail it.
#[isolated(tmpdir)]
fn lines() -> impl Iterator<Item = String> {
    fs::write(tmpdir.join("f"), "a\nb").unwrap();
    let text = fs::read_to_string(tmpdir.join("f")).unwrap();
    text.lines()
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

#[test]
fn an_opaque_value_that_is_no_termination() {
    assert_eq!(lines().collect::<Vec<_>>(), ["a", "b"]);
}

/// A return type from a `macro_rules!` `$ret:ty` arrives in an invisible group: an
/// `impl Termination` in one is observed by its value, whatever its type.
macro_rules! observed {
    ($name:ident($dir:ident) -> $ret:ty $body:block) => {
        #[test]
        #[isolated(tmpdir($dir))]
        fn $name() -> $ret $body
    };
}

observed!(macro_written_impl_termination(dir) -> impl std::process::Termination {
    fs::write(dir.join("f"), "x").map_err(|error| error.to_string())
});

observed!(macro_written_result(dir) -> Result<(), Box<dyn std::error::Error>> {
    fs::write(dir.join("f"), "x")?;
    Ok(())
});

observed!(macro_written_unit(dir) -> () {
    fs::write(dir.join("f"), "x").unwrap();
});
