//! As found: `#[serial]` guards a shared report file. It holds under `cargo test` (threads of one
//! process) and not under nextest, where each test is its own process.

use serial_test::serial;
use std::path::PathBuf;

fn report() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("offenders-report.txt")
}

fn write_report(section: &str) {
    let lines = (0..40)
        .map(|i| format!("{section} line {i}\n"))
        .collect::<Vec<_>>()
        .concat();
    std::fs::write(report(), &lines).unwrap();
    for _ in 0..50 {
        std::thread::yield_now();
    }
    assert_eq!(
        std::fs::read_to_string(report()).unwrap(),
        lines,
        "another test rewrote the report"
    );
}

#[test]
#[serial]
fn serial_report_summary() {
    write_report("summary");
}

#[test]
#[serial]
fn serial_report_details() {
    write_report("details");
}

#[test]
#[serial]
fn serial_report_totals() {
    write_report("totals");
}
