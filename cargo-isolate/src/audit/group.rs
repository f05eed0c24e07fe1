//! Groups a file's findings by inline module when one attribute on the module fixes them all
//! (`env_proxy`'s `mod tests`: 37 `set_var` lines, one `#[isolated(env)]`).

use super::Finding;
use std::collections::BTreeMap;

/// The findings of one file, each with the inline modules its fn is in, with `module` and
/// `module_fix` set on those of the outermost module whose findings one attribute fixes.
pub(crate) fn by_module(findings: Vec<(Finding, Vec<String>)>) -> Vec<Finding> {
    // For each module, the one attribute that fixes every finding inside (nested modules
    // included), or `None` when none does, and how many there are: one is no group.
    let mut fixes: BTreeMap<&[String], Option<&str>> = BTreeMap::new();
    let mut counts: BTreeMap<&[String], usize> = BTreeMap::new();
    for (finding, module) in &findings {
        let attribute = attribute(&finding.fix);
        for depth in 1..=module.len() {
            *counts.entry(&module[..depth]).or_default() += 1;
            fixes
                .entry(&module[..depth])
                .and_modify(|fix| {
                    if *fix != attribute {
                        *fix = None;
                    }
                })
                .or_insert(attribute);
        }
    }
    let groups: Vec<Option<(String, String)>> = findings
        .iter()
        .map(|(_, module)| {
            (1..=module.len()).find_map(|depth| {
                let fix = fixes.get(&module[..depth]).copied().flatten()?;
                if counts[&module[..depth]] < 2 {
                    return None;
                }
                Some((module[..depth].join("::"), fix.to_owned()))
            })
        })
        .collect();
    findings
        .into_iter()
        .zip(groups)
        .map(|((finding, _), group)| {
            let (module, module_fix) = group.unzip();
            Finding {
                module,
                module_fix,
                ..finding
            }
        })
        .collect()
}

/// `#[isolated(env)]` of a fix that starts with that attribute in backticks.
fn attribute(fix: &str) -> Option<&str> {
    let rest = fix.strip_prefix('`')?;
    rest.starts_with("#[isolated(")
        .then(|| rest.split('`').next())
        .flatten()
}
