//! The service's settings, read from the environment once per process, at first use: the way
//! dotenvy loads `.env` once and a logger reads `RUST_LOG` once. A test that sets a variable
//! after anything in its process asked for the settings is not seen.

use std::sync::OnceLock;

/// What the service reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `OFFENDERS_LOG`, `info` when unset (as `RUST_LOG`).
    pub log_level: String,
    /// `OFFENDERS_REGION`, `local` when unset.
    pub region: String,
}

impl Settings {
    /// The settings in the environment now, bypassing the process's copy.
    #[must_use]
    pub fn from_env() -> Settings {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
        Settings {
            log_level: var("OFFENDERS_LOG", "info"),
            region: var("OFFENDERS_REGION", "local"),
        }
    }
}

/// The process's settings: read from the environment by the first caller, then the same for
/// every caller for the life of the process.
///
/// ```
/// assert!(std::ptr::eq(isolate_offenders::settings(), isolate_offenders::settings()));
/// ```
pub fn settings() -> &'static Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    SETTINGS.get_or_init(Settings::from_env)
}
