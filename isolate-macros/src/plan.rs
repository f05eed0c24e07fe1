//! Turns what the attribute was written on into a plan: for each test, the arguments it ends
//! up with. For a module that means walking its items (nested inline modules included),
//! inheriting the module's arguments, and adding a test's own `#[isolated]` to them.
//!
//! Every check runs here, into one `Errors`; emitting a plan cannot fail.

use crate::args::Args;
use crate::errors::{self, Errors};
use crate::item::{self, Item, ModItem, Module, TestFn};
use crate::scan::Attr;
use crate::test_attr::{self, Mark};
use crate::validate;
use proc_macro2::{Ident, TokenStream};

/// What to emit for one attribute.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Plan {
    Fn(TestPlan),
    Mod(ModPlan),
    /// Not a fn or inline module (already reported), or not Rust at all (rustc will say).
    Untouched(TokenStream),
}

/// A test and everything it asked for, its module's arguments included.
pub(crate) struct TestPlan {
    pub(crate) args: Args,
    pub(crate) func: TestFn,
    /// Emit `serial_test`'s attribute for each group.
    pub(crate) bridge: bool,
}

/// An inline module whose tests get their plans.
pub(crate) struct ModPlan {
    /// The module, its items moved into `items`.
    pub(crate) module: Module,
    pub(crate) items: Vec<Planned>,
    /// Names of `#[isolated]` attributes consumed here that this module imports with a `use`
    /// of its own: named once more so that `use` is not reported unused.
    pub(crate) consumed_imports: Vec<Ident>,
}

#[allow(clippy::large_enum_variant)]
pub(crate) enum Planned {
    Test(TestPlan),
    Mod(ModPlan),
    Item(ModItem),
}

/// Parses and checks the attribute's arguments and the item, reporting into `cx`.
pub(crate) fn build(cx: &Errors, args: TokenStream, item: TokenStream, bridge: bool) -> Plan {
    let args = Args::parse(cx, args);
    validate::check_args(cx, &args);
    match item::parse(cx, item.clone()) {
        Some(Item::Fn(mut func)) => {
            let args = with_later_attributes(cx, args, &mut func.attrs);
            validate::check_bindings_reach_body(cx, &args, &func);
            Plan::Fn(test(cx, args, func, bridge))
        }
        Some(Item::Mod(mut module)) => {
            let args = with_later_attributes(cx, args, &mut module.attrs);
            Plan::Mod(module_plan(cx, &args, module, bridge))
        }
        None => Plan::Untouched(item),
    }
}

/// A second `#[isolated(..)]` below this one on the same item adds to it, as a test's own adds
/// to its module's. Left in place it would expand again around this expansion: a second guard
/// that joins this one's groups again (a test that waits for itself) and binds its names again.
fn with_later_attributes(cx: &Errors, args: Args, attrs: &mut Vec<Attr>) -> Args {
    // The first attribute names the import in use; a later one's name needs no keeping.
    let mut consumed = Vec::new();
    match take_own_args(cx, attrs, &mut consumed) {
        Some(later) => validate::merge(cx, &args, &later),
        None => args,
    }
}

fn test(cx: &Errors, args: Args, func: TestFn, bridge: bool) -> TestPlan {
    validate::check_fn(cx, &args, &func);
    // `serial_test`'s attribute rewrites the fn without its parameters and generics: on a
    // helper that has some it would not compile. A test attribute below it (`rstest`,
    // `test_case`) makes fns without them first.
    let wrappable = func.sig.inputs.is_empty() && func.sig.generics.is_empty();
    let bridge = bridge && (wrappable || matches!(test_attr::mark(&func.attrs), Mark::Test));
    TestPlan { args, func, bridge }
}

fn module_plan(cx: &Errors, outer: &Args, mut module: Module, bridge: bool) -> ModPlan {
    let items = match &mut module.content {
        Ok(content) => std::mem::take(&mut content.items),
        Err(_) => Vec::new(),
    };
    let imported: Vec<Ident> = items
        .iter()
        .filter_map(|item| match item {
            ModItem::Use(_, names) => Some(names),
            _ => None,
        })
        .flatten()
        .cloned()
        .collect();
    let mut consumed: Vec<Ident> = Vec::new();
    let mut planned = Vec::with_capacity(items.len());
    for item in items {
        planned.push(match item {
            ModItem::Fn(mut func) => {
                let own = take_own_args(cx, &mut func.attrs, &mut consumed);
                match (own, test_attr::mark(&func.attrs)) {
                    (Some(own), _) => {
                        Planned::Test(test(cx, validate::merge(cx, outer, &own), func, bridge))
                    }
                    (None, Mark::Test) => Planned::Test(test(cx, outer.clone(), func, bridge)),
                    (None, Mark::LooksLikeTest(path)) => {
                        if outer.constrains() {
                            let text = path.to_string().replace(' ', "");
                            cx.spanned(path, errors::unknown_test_attribute(&text));
                        }
                        Planned::Item(ModItem::Fn(func))
                    }
                    (None, Mark::Plain) => Planned::Item(ModItem::Fn(func)),
                }
            }
            ModItem::Mod(mut nested) if nested.content.is_ok() => {
                let own = take_own_args(cx, &mut nested.attrs, &mut consumed);
                let args =
                    own.map_or_else(|| outer.clone(), |own| validate::merge(cx, outer, &own));
                Planned::Mod(module_plan(cx, &args, nested, bridge))
            }
            other => Planned::Item(other),
        });
    }
    consumed.retain(|name| imported.contains(name));
    consumed.sort_by_key(ToString::to_string);
    consumed.dedup_by_key(|name| name.to_string());
    ModPlan {
        module,
        items: planned,
        consumed_imports: consumed,
    }
}

/// Removes the item's own `#[isolated(..)]` attributes, remembering the first segment of each
/// path, and parses their arguments.
fn take_own_args(cx: &Errors, attrs: &mut Vec<Attr>, consumed: &mut Vec<Ident>) -> Option<Args> {
    let mut own: Option<Args> = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        if !test_attr::is_isolated(&attr) {
            kept.push(attr);
            continue;
        }
        let meta = attr.meta();
        let tokens = match &meta {
            Some(crate::meta::Meta::List(list)) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        if let Some(first) = meta.as_ref().and_then(|meta| meta.path().segments.first()) {
            consumed.push(first.clone());
        }
        let args = Args::parse(cx, tokens);
        validate::check_args(cx, &args);
        own = Some(match own {
            Some(earlier) => validate::merge(cx, &earlier, &args),
            None => args,
        });
    }
    *attrs = kept;
    own
}
