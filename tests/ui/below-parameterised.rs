// Below `#[rstest]` (fixtures only) or `#[sqlx::test]` the attribute is on a fn that holds
// the written fn as a nested item, which no local reaches (this is that expansion, written
// out: the harness compiles ui cases without `--test`, where rstest's output vanishes). The
// error is on the binding, with the place the attribute must move to.
use isolate::isolated;

#[isolated(port)]
fn below_rstest_fixture() {
    fn below_rstest_fixture(n: u8) {
        let _ = (port.addr(), n);
    }
    below_rstest_fixture(1)
}

// Held unused on purpose, or a written body that leaves it unused: no error.
#[isolated(port(_held))]
fn held_unused() {}

#[isolated(tmpdir)]
fn written_unused() {}

fn main() {}
