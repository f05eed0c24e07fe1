//! The fns a test reaches through its calls, across the files of its crate, each with the calls
//! that lead there.

use super::methods::Methods;
use super::modules::{FileId, FnId, Module, Tree};
use proc_macro2::Span;
use std::collections::{BTreeMap, VecDeque};

/// How many calls deep a test's helpers are followed: deeper chains are reported on the helper
/// itself, as before.
const DEPTH: usize = 12;

/// A fn a test reaches.
pub(crate) struct Reached {
    pub(crate) node: FnId,
    /// The calls from the test to it, as written (`common::setup`, `write_env`).
    pub(crate) via: Vec<String>,
    /// Where the test makes the first of those calls.
    pub(crate) at: Span,
    /// Why a call on the way was linked by its method name only, when one was.
    pub(crate) guess: Option<String>,
}

/// One call: the fn called, the path as written and where.
#[derive(Clone)]
struct Edge {
    to: FnId,
    path: String,
    at: Span,
    guess: Option<String>,
}

/// The calls of each fn, resolved once per crate root.
#[derive(Default)]
pub(crate) struct Calls {
    edges: BTreeMap<(FnId, FileId), Vec<Edge>>,
    /// The helper methods of each crate, by its root.
    methods: BTreeMap<FileId, Methods>,
}

impl Calls {
    /// The test code that `test` reaches (itself left out), by the fewest calls, each once.
    /// Cycles end where they close; chains end at `DEPTH`.
    pub(crate) fn reached_by(&mut self, tree: &Tree<'_, '_>, test: FnId) -> Vec<Reached> {
        let mut reached = Vec::new();
        for &root in tree.links.roots(test.0) {
            let mut came_from: BTreeMap<FnId, Option<(FnId, usize)>> = BTreeMap::new();
            let mut order = Vec::new();
            came_from.insert(test, None);
            let mut queue = VecDeque::from([(test, 0)]);
            while let Some((node, depth)) = queue.pop_front() {
                if depth == DEPTH {
                    continue;
                }
                for (at, edge) in self.edges(tree, node, root).iter().enumerate() {
                    if let std::collections::btree_map::Entry::Vacant(slot) =
                        came_from.entry(edge.to)
                    {
                        slot.insert(Some((node, at)));
                        order.push(edge.to);
                        queue.push_back((edge.to, depth + 1));
                    }
                }
            }
            for node in order {
                let mut via = Vec::new();
                let mut guesses = Vec::new();
                let mut first = None;
                let mut step = node;
                while let Some(Some((from, at))) = came_from.get(&step) {
                    let edge = &self.edges(tree, *from, root)[*at];
                    via.push(edge.path.clone());
                    guesses.extend(edge.guess.clone());
                    first = Some(edge.at);
                    step = *from;
                }
                via.reverse();
                guesses.reverse();
                if let Some(at) = first {
                    let guess = (!guesses.is_empty()).then(|| guesses.join("; "));
                    reached.push(Reached {
                        node,
                        via,
                        at,
                        guess,
                    });
                }
            }
        }
        reached
    }

    /// The test code `node` calls: the fns its call paths name, the fns of its own file of
    /// the called names (a fn nested in another), and the helper methods it calls
    /// (`Server::new()`, `server.start()`, see [`Methods`]).
    fn edges(&mut self, tree: &Tree<'_, '_>, node: FnId, root: FileId) -> &[Edge] {
        let methods = self
            .methods
            .entry(root)
            .or_insert_with(|| Methods::new(tree, root));
        self.edges
            .entry((node, root))
            .or_insert_with(|| edges(tree, methods, node, root))
    }
}

fn edges(tree: &Tree<'_, '_>, methods: &Methods, node: FnId, root: FileId) -> Vec<Edge> {
    let index = &tree.indexes[node.0];
    let func = &index.fns[node.1];
    let from = Module {
        file: node.0,
        path: func.module.clone(),
    };
    // The type a name stands for where `func` is: `Server` of `use common::TestServer as Server`.
    let alias = |name: &str| {
        index
            .scoped_uses
            .get(&(func.module.clone(), name.to_owned()))
            .and_then(|path| path.last())
            .map_or_else(|| name.to_owned(), Clone::clone)
    };
    let mut edges = Vec::new();
    for (path, at) in &func.call_sites {
        let name = path.last().map(String::as_str).unwrap_or_default();
        let same_file = index.by_name(name).iter().map(|&at| (node.0, at));
        let mut targets = tree.resolve_fn(&from, path, root);
        targets.extend(same_file);
        if let [.., ty, _] = path.as_slice() {
            let ty = match ty.as_str() {
                "Self" => func.owner().unwrap_or_default().to_owned(),
                ty => alias(ty),
            };
            targets.extend(methods.of_type(&ty, name));
        }
        targets.sort_unstable();
        targets.dedup();
        for to in targets {
            edges.push(Edge {
                to,
                path: path.join("::"),
                at: *at,
                guess: None,
            });
        }
    }
    for site in &func.method_sites {
        for target in methods.called(tree, site, func.owner(), alias) {
            edges.push(Edge {
                to: target.to,
                path: target.path,
                at: site.at,
                guess: target.guess,
            });
        }
    }
    edges.retain(|edge| edge.to != node && tree.indexes[edge.to.0].fns[edge.to.1].in_scope);
    edges
}
