//! Fresh per-test directories, removed on pass and kept on failure.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Error;

/// A fresh directory for one test, removed when the last handle drops unless the test failed.
#[derive(Debug, Clone)]
pub struct TmpDir {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    failed: AtomicBool,
}

impl TmpDir {
    /// Creates `<temp>/isolate/<test>-<name>-<uuid>`.
    ///
    /// # Errors
    ///
    /// Fails when the directory cannot be created.
    pub fn for_test(test: &str, name: &str) -> Result<Self, Error> {
        let sanitized: String = format!("{test}-{name}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = std::env::temp_dir()
            .join("isolate-stub")
            .join(format!("{sanitized}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::io(format!("cannot create `{}`", path.display()), e))?;
        Ok(TmpDir {
            inner: Arc::new(Inner {
                path,
                failed: AtomicBool::new(false),
            }),
        })
    }

    /// The directory's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    pub(crate) fn mark_failed(&self) {
        self.inner.failed.store(true, Ordering::Relaxed);
    }
}

impl AsRef<Path> for TmpDir {
    fn as_ref(&self) -> &Path {
        self.path()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.failed.load(Ordering::Relaxed) {
            eprintln!(
                "isolate: kept temp dir of failed test: {}",
                self.path.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
