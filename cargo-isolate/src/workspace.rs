//! The packages a command works on, read with `cargo metadata`.

use cargo_metadata::{Metadata, MetadataCommand, Package};
use std::path::{Path, PathBuf};

/// A usage or environment error, printed as `error: {0}`.
#[derive(Debug)]
pub struct Error {
    /// The message, lowercase like rustc's.
    pub message: String,
    /// A usage error (exit status 2) rather than a failure of the work (exit status 1).
    pub usage: bool,
}

impl Error {
    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            usage: true,
        }
    }

    /// A failure of the work itself.
    pub fn failed(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            usage: false,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The workspace and the chosen packages.
#[derive(Debug)]
pub struct Workspace {
    /// `cargo metadata`'s answer.
    pub metadata: Metadata,
    /// The names of the packages chosen with `-p`, or the workspace's default members.
    pub packages: Vec<String>,
}

impl Workspace {
    /// Reads the workspace of `manifest_path` (or of the current directory), chooses
    /// `packages` (or every member with `all`, or the default members) and checks that
    /// every name in `packages` is one of its members.
    ///
    /// # Errors
    /// When `cargo metadata` fails, or a package is no member.
    pub fn load(
        manifest_path: Option<&Path>,
        packages: &[String],
        all: bool,
    ) -> Result<Self, Error> {
        let mut command = MetadataCommand::new();
        command.no_deps();
        if let Some(path) = manifest_path {
            command.manifest_path(path);
        }
        let metadata = command
            .exec()
            .map_err(|e| Error::usage(format!("cannot read the workspace: {e}")))?;
        let members: Vec<String> = metadata
            .workspace_packages()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        for name in packages {
            if !members.contains(name) {
                return Err(Error::usage(format!(
                    "package `{name}` is not a member of the workspace; its members are: {}",
                    members
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let packages = if all {
            members
        } else if packages.is_empty() {
            metadata
                .workspace_default_packages()
                .iter()
                .map(|p| p.name.to_string())
                .collect()
        } else {
            packages.to_vec()
        };
        Ok(Workspace { metadata, packages })
    }

    /// The chosen packages.
    #[must_use]
    pub fn chosen(&self) -> Vec<&Package> {
        self.metadata
            .workspace_packages()
            .into_iter()
            .filter(|p| self.packages.iter().any(|n| *n == *p.name))
            .collect()
    }

    /// The workspace root.
    #[must_use]
    pub fn root(&self) -> PathBuf {
        self.metadata.workspace_root.clone().into_std_path_buf()
    }
}
