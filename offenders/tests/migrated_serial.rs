//! Migrated from `found_serial.rs`: `#[serial]` becomes
//! `#[isolated(serial = "offenders-report")]`, which also holds across nextest's processes.

use isolate::isolated;
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
#[isolated(serial = "offenders-report")]
fn serial_report_summary() {
    write_report("summary");
}

#[test]
#[isolated(serial = "offenders-report")]
fn serial_report_details() {
    write_report("details");
}

#[test]
#[isolated(serial = "offenders-report")]
fn serial_report_totals() {
    write_report("totals");
}
