//! Walks one fn body and hands every expression and block to every detector.

use super::detect::{Cx, Detector, Hit};
use super::index::{macro_exprs, FnInfo, Index};
use syn::visit::Visit;

/// The detectors' hits in `func`.
pub(crate) fn fn_hits<'ast>(
    index: &Index<'ast>,
    func: &FnInfo<'ast>,
    detectors: &[Box<dyn Detector>],
) -> Vec<Hit> {
    let mut walker = Walker {
        index,
        func,
        detectors,
        ancestors: Vec::new(),
        hits: Vec::new(),
    };
    walker.hits = attr_hits(func.attrs, detectors);
    walker.visit_block(func.block);
    walker.hits
}

/// The detectors' hits in the attributes of a fn or module.
pub(crate) fn attr_hits(attrs: &[syn::Attribute], detectors: &[Box<dyn Detector>]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for detector in detectors {
        detector.attrs(attrs, &mut hits);
    }
    hits
}

struct Walker<'a, 'ast> {
    index: &'a Index<'ast>,
    func: &'a FnInfo<'ast>,
    detectors: &'a [Box<dyn Detector>],
    ancestors: Vec<syn::Expr>,
    hits: Vec<Hit>,
}

impl Walker<'_, '_> {
    fn check(&mut self, f: impl Fn(&dyn Detector, &Cx<'_, '_>, &mut Vec<Hit>)) {
        let ancestors: Vec<&syn::Expr> = self.ancestors.iter().collect();
        let cx = Cx {
            index: self.index,
            func: self.func,
            ancestors: &ancestors,
        };
        for detector in self.detectors {
            f(detector.as_ref(), &cx, &mut self.hits);
        }
    }
}

impl<'v> Visit<'v> for Walker<'_, '_> {
    fn visit_expr(&mut self, expr: &'v syn::Expr) {
        self.check(|d, cx, hits| d.expr(cx, expr, hits));
        // Ancestors are owned copies: macro bodies are parsed into temporaries that do not
        // live as long as the file.
        self.ancestors.push(expr.clone());
        syn::visit::visit_expr(self, expr);
        self.ancestors.pop();
    }

    fn visit_block(&mut self, block: &'v syn::Block) {
        self.check(|d, cx, hits| d.block(cx, block, hits));
        syn::visit::visit_block(self, block);
    }

    fn visit_macro(&mut self, mac: &'v syn::Macro) {
        for expr in macro_exprs(mac) {
            self.visit_expr(&expr);
        }
    }

    // Nested fns are walked as fns of their own by the caller.
    fn visit_item_fn(&mut self, _: &'v syn::ItemFn) {}
}
