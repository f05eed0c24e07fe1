//! Which helper a method call or a `Type::f` call names, in the test code of one crate: by the
//! type where the code writes it, else by a method name no other helper method has, which is a
//! guess and says so.

use super::modules::{FileId, FnId, Tree};
use super::receivers::{MethodSite, Receiver};
use std::collections::BTreeMap;

/// The fns of a crate's test code that impls hold.
#[derive(Default)]
pub(crate) struct Methods {
    /// By (type, name).
    by_type: BTreeMap<(String, String), Vec<FnId>>,
    /// The methods (fns taking `self`), by name.
    by_name: BTreeMap<String, Vec<FnId>>,
}

/// The helpers a call names; `guess` says why when only the name links them.
pub(crate) struct Target {
    pub(crate) to: FnId,
    /// `Type::method`, to show in `via`.
    pub(crate) path: String,
    pub(crate) guess: Option<String>,
}

impl Methods {
    /// The impl fns of the test code in the crate whose root is `root`.
    pub(crate) fn new(tree: &Tree<'_, '_>, root: FileId) -> Self {
        let mut methods = Methods::default();
        for (file, index) in tree.indexes.iter().enumerate() {
            if !tree.links.roots(file).contains(&root) {
                continue;
            }
            for (at, f) in index.fns.iter().enumerate() {
                let Some(in_impl) = f.in_impl.as_ref().filter(|_| f.in_scope) else {
                    continue;
                };
                let key = (in_impl.owner.clone(), f.name.clone());
                methods.by_type.entry(key).or_default().push((file, at));
                if in_impl.takes_self {
                    let named = methods.by_name.entry(f.name.clone()).or_default();
                    named.push((file, at));
                }
            }
        }
        methods
    }

    /// The fns `Type::name` names.
    pub(crate) fn of_type(&self, ty: &str, name: &str) -> &[FnId] {
        self.by_type
            .get(&(ty.to_owned(), name.to_owned()))
            .map_or(&[], Vec::as_slice)
    }

    /// The helpers the method call `site` names, made in a fn of the type `owner` (its impl's).
    /// `alias` gives the type a name stands for (`use common::Server as S;`).
    pub(crate) fn called(
        &self,
        tree: &Tree<'_, '_>,
        site: &MethodSite,
        owner: Option<&str>,
        alias: impl Fn(&str) -> String,
    ) -> Vec<Target> {
        let own_type = |ty: &str| {
            if ty == "Self" {
                owner.map(str::to_owned)
            } else {
                Some(alias(ty))
            }
        };
        let ty = match &site.receiver {
            Receiver::This => owner.map(str::to_owned),
            Receiver::Type(ty) => own_type(ty),
            Receiver::MadeBy { ty, ctor } => own_type(ty).filter(|ty| {
                let ctors = self.of_type(ty, ctor);
                ctors.is_empty() || ctors.iter().any(|&(file, at)| returns_self(tree, file, at))
            }),
            Receiver::Unknown => None,
        };
        if let Some(ty) = ty {
            // A type the crate's test code has no such method for (`Vec`, `TcpStream`) is
            // no helper's.
            return self
                .of_type(&ty, &site.method)
                .iter()
                .map(|&to| Target {
                    to,
                    path: format!("{ty}::{}", site.method),
                    guess: None,
                })
                .collect();
        }
        match self.by_name.get(&site.method).map(Vec::as_slice) {
            Some(&[to]) => {
                let f = &tree.indexes[to.0].fns[to.1];
                let path = format!("{}::{}", f.owner().unwrap_or("?"), f.name);
                Some(Target {
                    to,
                    guess: Some(format!(
                        "the receiver's type of `.{}()` is not written; `{path}` is the only \
                         helper method of that name",
                        site.method
                    )),
                    path,
                })
            }
            _ => None,
        }
        .into_iter()
        .collect()
    }
}

fn returns_self(tree: &Tree<'_, '_>, file: FileId, at: usize) -> bool {
    tree.indexes[file].fns[at]
        .in_impl
        .as_ref()
        .is_some_and(|i| i.returns_self)
}
