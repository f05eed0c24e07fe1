//! What both hand-off benches share: the gaps between holders, their percentiles, and the
//! holder counts to run.

/// Wall-clock nanoseconds: comparable across processes.
pub(crate) fn now_ns() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos()
}

/// The holder counts run by default.
pub(crate) const HOLDERS: [usize; 4] = [2, 4, 8, 16];

/// Gaps from each release to the next entry, in µs, sorted; panics on an overlap.
pub(crate) fn handoffs(mut intervals: Vec<(u128, u128)>) -> Vec<f64> {
    intervals.sort_unstable();
    let mut gaps: Vec<f64> = intervals
        .windows(2)
        .map(|pair| {
            let ((_, left), (entered, _)) = (pair[0], pair[1]);
            assert!(entered >= left, "two holders overlapped: {pair:?}");
            // Precision loss is irrelevant at µs resolution.
            #[allow(clippy::cast_precision_loss)]
            let gap = (entered - left) as f64 / 1_000.0;
            gap
        })
        .collect();
    gaps.sort_by(f64::total_cmp);
    gaps
}

pub(crate) fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

/// The holder counts to run: those given on the command line (`-- 2 8`), else all of
/// [`HOLDERS`]. Flags (cargo passes `--bench`) are ignored.
pub(crate) fn holder_counts() -> Vec<usize> {
    let chosen: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .map(|arg| arg.parse().expect("a holder count"))
        .collect();
    if chosen.is_empty() {
        HOLDERS.to_vec()
    } else {
        chosen
    }
}
