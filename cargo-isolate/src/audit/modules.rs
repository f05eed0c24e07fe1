//! The module tree across the audited files: which file a `mod x;` reads, which files are test
//! code, and which fn a call path names (`common::f`, `crate::common::f`, `super::f`,
//! `self::m::f`, through `use` items and globs). Methods and `Type::f` are `methods.rs`'s.

use super::index::Index;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// An audited file, by its place in the list.
pub(crate) type FileId = usize;

/// A fn, by its file and its place in that file's index.
pub(crate) type FnId = (FileId, usize);

/// A module: a file, and the inline modules inside it (empty for the file itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Module {
    pub(crate) file: FileId,
    pub(crate) path: Vec<String>,
}

/// How many `use` items and globs one resolution goes through: re-exports chain a few, and a
/// glob of a glob may lead back to itself.
const HOPS: u8 = 8;

/// How the files declare each other.
pub(crate) struct Links {
    /// For each file, the file each of its `mod` items reads (`None` when inline or not audited).
    children: Vec<Vec<Option<FileId>>>,
    /// For each file, the modules that declare it with `mod x;`.
    declarers: Vec<Vec<Module>>,
    /// For each file, the crate roots it belongs to (itself when nothing declares it).
    roots: Vec<BTreeSet<FileId>>,
}

impl Links {
    /// Reads the `mod` items of `indexes`, whose files are at `paths`.
    pub(crate) fn new(indexes: &[Index<'_>], paths: &[PathBuf]) -> Self {
        let ids: std::collections::BTreeMap<PathBuf, FileId> = paths
            .iter()
            .enumerate()
            .map(|(id, p)| (normalise(p), id))
            .collect();
        let mut declarers = vec![Vec::new(); paths.len()];
        let children: Vec<Vec<Option<FileId>>> = indexes
            .iter()
            .enumerate()
            .map(|(file, index)| {
                index
                    .mod_decls
                    .iter()
                    .map(|decl| {
                        let child = (!decl.inline)
                            .then(|| {
                                mod_files(
                                    &paths[file],
                                    &decl.within,
                                    &decl.name,
                                    decl.path.as_deref(),
                                )
                            })
                            .into_iter()
                            .flatten()
                            .find_map(|p| ids.get(&normalise(&p)).copied())
                            .filter(|child| *child != file)?;
                        let mut path = decl.within.clone();
                        path.push(decl.name.clone());
                        declarers[child].push(Module { file, path });
                        Some(child)
                    })
                    .collect()
            })
            .collect();
        let roots = (0..paths.len())
            .map(|file| roots_of(file, &declarers))
            .collect();
        Links {
            children,
            declarers,
            roots,
        }
    }

    /// Which files are test code as a whole: under `tests/`, or declared by a `#[cfg(test)] mod`
    /// or from test code (`#[cfg(test)] mod test_utils;` in `src/lib.rs`).
    pub(crate) fn test_code(&self, indexes: &[Index<'_>], all_test_code: &[bool]) -> Vec<bool> {
        let mut test = all_test_code.to_vec();
        loop {
            let mut changed = false;
            for (file, index) in indexes.iter().enumerate() {
                for (decl, child) in index.mod_decls.iter().zip(&self.children[file]) {
                    if let Some(child) = *child {
                        if (decl.test || test[file]) && !test[child] {
                            test[child] = true;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                return test;
            }
        }
    }

    /// The crate roots `file` belongs to.
    pub(crate) fn roots(&self, file: FileId) -> &BTreeSet<FileId> {
        &self.roots[file]
    }
}

/// The modules of the audited files and the fns that paths name.
pub(crate) struct Tree<'a, 'ast> {
    pub(crate) indexes: &'a [Index<'ast>],
    pub(crate) links: &'a Links,
}

impl Tree<'_, '_> {
    /// The fns that `path`, called in `from`, names in the crate whose root is `root`.
    pub(crate) fn resolve_fn(&self, from: &Module, path: &[String], root: FileId) -> Vec<FnId> {
        self.fns(from, path, root, HOPS)
    }

    fn fns(&self, from: &Module, path: &[String], root: FileId, hops: u8) -> Vec<FnId> {
        let Some((name, prefix)) = path.split_last() else {
            return Vec::new();
        };
        let Some(module) = self.module(from, prefix, root, hops) else {
            return Vec::new();
        };
        let index = &self.indexes[module.file];
        let found: Vec<FnId> = index
            .named(&module.path, name)
            .map(|at| (module.file, at))
            .collect();
        if !found.is_empty() || hops == 0 {
            return found;
        }
        if let Some(target) = index.scoped_uses.get(&(module.path.clone(), name.clone())) {
            return self.fns(&module, target, root, hops - 1);
        }
        let mut found = Vec::new();
        for (_, glob) in index.globs.iter().filter(|(m, _)| *m == module.path) {
            if let Some(globbed) = self.module(&module, glob, root, hops - 1) {
                found.extend(self.fns(&globbed, std::slice::from_ref(name), root, hops - 1));
            }
        }
        found
    }

    /// The module `path` names from `from`.
    fn module(&self, from: &Module, path: &[String], root: FileId, hops: u8) -> Option<Module> {
        let mut module = from.clone();
        for (at, segment) in path.iter().enumerate() {
            module = match segment.as_str() {
                "crate" if at == 0 => Module {
                    file: root,
                    path: Vec::new(),
                },
                "self" => module,
                "super" => self.parent(&module, root)?,
                name => match self.child(&module, name) {
                    Some(child) => child,
                    // `use crate::common as c;` then `c::setup()`.
                    None if at == 0 && hops > 0 => {
                        let target = self.indexes[module.file]
                            .scoped_uses
                            .get(&(module.path.clone(), name.to_owned()))?;
                        self.module(&module, target, root, hops - 1)?
                    }
                    None => return None,
                },
            };
        }
        Some(module)
    }

    /// The module `name` declared in `module`: inline, or the file a `mod name;` reads.
    fn child(&self, module: &Module, name: &str) -> Option<Module> {
        let index = &self.indexes[module.file];
        let at = index
            .mod_decls
            .iter()
            .position(|d| d.within == module.path && d.name == name)?;
        if index.mod_decls[at].inline {
            let mut path = module.path.clone();
            path.push(name.to_owned());
            return Some(Module {
                file: module.file,
                path,
            });
        }
        self.links.children[module.file][at].map(|file| Module {
            file,
            path: Vec::new(),
        })
    }

    /// The module that holds `module`, in the crate of `root`: a file declared by several test
    /// targets (`tests/common/mod.rs`) has one parent in each.
    fn parent(&self, module: &Module, root: FileId) -> Option<Module> {
        if let Some((_, outer)) = module.path.split_last() {
            return Some(Module {
                file: module.file,
                path: outer.to_vec(),
            });
        }
        self.links.declarers[module.file]
            .iter()
            .find(|d| self.links.roots[d.file].contains(&root))
            .map(|d| Module {
                file: d.file,
                path: d.path[..d.path.len() - 1].to_vec(),
            })
    }
}

/// The crate roots above `file`: the files that declare it, and theirs, up to one that nothing
/// declares.
fn roots_of(file: FileId, declarers: &[Vec<Module>]) -> BTreeSet<FileId> {
    let mut roots = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut stack = vec![file];
    while let Some(file) = stack.pop() {
        if !seen.insert(file) {
            continue;
        }
        if declarers[file].is_empty() {
            roots.insert(file);
        }
        stack.extend(declarers[file].iter().map(|d| d.file));
    }
    roots
}

/// The files `mod name;` may read, declared in `file` inside the inline modules `within`, as
/// the Reference says: `name.rs` or `name/mod.rs` in the module's directory, or the
/// `#[path]` given (from the file's directory at the top level, the module's inside one).
fn mod_files(file: &Path, within: &[String], name: &str, path: Option<&str>) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut module_dir = dir.to_path_buf();
    if !owns_its_directory(file) {
        module_dir.push(file.file_stem().unwrap_or_default());
    }
    module_dir.extend(within);
    match path {
        Some(path) if within.is_empty() => vec![dir.join(path)],
        Some(path) => vec![module_dir.join(path)],
        None => vec![
            module_dir.join(format!("{name}.rs")),
            module_dir.join(name).join("mod.rs"),
        ],
    }
}

/// A `mod.rs` or a crate root (`lib.rs`, `main.rs`, `tests/x.rs`, `src/bin/x.rs`, ...): its
/// modules' files sit beside it, not in a directory named after it.
fn owns_its_directory(file: &Path) -> bool {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let dir = file
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    matches!(name, "mod.rs" | "lib.rs" | "main.rs" | "build.rs")
        || matches!(dir, "tests" | "examples" | "benches" | "bin")
}

/// `path` without `.` and with each `..` taking off the component before it.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}
