//! Shared by the once-per-process family: the one assertion both forms make, so that the
//! migrated tests check exactly what the found ones did.

use isolate_offenders::{Settings, settings};

/// The process's settings are `log_level` and `region`.
pub(crate) fn expect(log_level: &str, region: &str) {
    let expected = Settings {
        log_level: log_level.to_owned(),
        region: region.to_owned(),
    };
    assert_eq!(
        *settings(),
        expected,
        "the settings another test's environment initialised"
    );
}
