//! The texts of the `truenas` tool's listing modes and lookup errors, in the exact format of
//! the server we replace, built from our own catalog. Counts cover visible actions only; hidden
//! actions are absent from listings.

use serde_json::json;

use super::{ActionDef, ArgDef, Catalog};

/// Listings cut an argument description longer than this many UTF-16 units...
const CUT_AFTER: usize = 100;
/// ...to this many, followed by `...`.
const CUT_TO: usize = 97;

/// The category listing (no category, an empty one, or `help`).
pub fn categories_text(catalog: &Catalog, visible: &dyn Fn(&ActionDef) -> bool) -> String {
    categories_text_with(catalog, visible, &[])
}

/// The category listing with categories that are not the catalog's after its own (name,
/// description, number of actions): the server's `policy` category.
pub fn categories_text_with(
    catalog: &Catalog,
    visible: &dyn Fn(&ActionDef) -> bool,
    extra: &[(&str, &str, usize)],
) -> String {
    let counted: Vec<(&str, &str, usize)> = catalog
        .categories()
        .iter()
        .map(|c| (c.name.as_str(), c.description.as_str(), visible_in(catalog, &c.name, visible).len()))
        .chain(extra.iter().copied())
        .filter(|(_, _, n)| *n > 0)
        .collect();
    let total: usize = counted.iter().map(|(_, _, n)| n).sum();
    let mut lines = vec![
        format!("TrueNAS MCP — {total} tools across {} categories", counted.len()),
        String::new(),
        "Call with a category to see available actions, or with category + action + params to execute.".into(),
        String::new(),
        "Categories:".into(),
    ];
    // "(1 actions)" is the reference's wording, kept as is.
    lines.extend(counted.iter().map(|(name, desc, n)| format!("  {name} ({n} actions) — {desc}")));
    lines.join("\n")
}

/// The action listing of one category; `None` when the catalog has no such category.
pub fn actions_text(catalog: &Catalog, category: &str, visible: &dyn Fn(&ActionDef) -> bool) -> Option<String> {
    actions_text_marked(catalog, category, visible, &|_| None)
}

/// The action listing of one category, each action's line followed by its mark, if any (` [needs
/// approval]`): how the policy treats it.
pub fn actions_text_marked(
    catalog: &Catalog,
    category: &str,
    visible: &dyn Fn(&ActionDef) -> bool,
    mark: &dyn Fn(&ActionDef) -> Option<String>,
) -> Option<String> {
    let cat = catalog.category(category)?;
    let actions = visible_in(catalog, category, visible);
    if actions.is_empty() {
        return Some(format!("No actions found in category \"{category}\"."));
    }
    let mut lines = vec![
        format!("Category: {} — {}\n", cat.name, cat.description),
        format!("{} available actions:\n", actions.len()),
    ];
    for action in actions {
        let mark = mark(action).map(|m| format!(" {m}")).unwrap_or_default();
        lines.push(format!("  {} — {}{mark}", action.name, action.description));
        let (required, optional): (Vec<&ArgDef>, Vec<&ArgDef>) = action.args.iter().partition(|a| a.required);
        if !required.is_empty() {
            lines.push(format!("    Required: {}", arg_list(&required)));
        }
        if !optional.is_empty() {
            lines.push(format!("    Optional: {}", arg_list(&optional)));
        }
    }
    Some(lines.join("\n"))
}

/// The answer to a category the catalog does not have.
pub fn unknown_category_text(catalog: &Catalog, category: &str) -> String {
    let names: Vec<&str> = catalog.categories().iter().map(|c| c.name.as_str()).collect();
    format!("Unknown category \"{category}\". Available categories: {}", names.join(", "))
}

/// The answer to an action the catalog does not have, or that this client may not see (pretty
/// JSON, as the reference). It names only visible actions, so a hidden one answers exactly as
/// one that does not exist.
pub fn unknown_action_text(
    catalog: &Catalog,
    category: &str,
    action: &str,
    visible: &dyn Fn(&ActionDef) -> bool,
) -> String {
    let names: Vec<&str> = catalog
        .category(category)
        .map(|c| {
            let shown = |a: &&crate::ids::ActionName| catalog.action(a.as_str()).is_some_and(visible);
            c.actions.iter().filter(shown).map(|a| a.as_str()).collect()
        })
        .unwrap_or_default();
    error_json(format!("Unknown action \"{action}\" in category \"{category}\". Available: {}", names.join(", ")))
}

/// The answer to a known action called under the wrong category (pretty JSON, as the reference).
pub fn wrong_category_text(action: &str, given: &str, real: &str) -> String {
    error_json(format!(
        "Action \"{action}\" belongs to category \"{real}\", not \"{given}\". Use category \"{real}\" instead."
    ))
}

fn error_json(message: String) -> String {
    let body = json!({ "error": message });
    serde_json::to_string_pretty(&body).unwrap_or(message)
}

fn visible_in<'a>(catalog: &'a Catalog, category: &str, visible: &dyn Fn(&ActionDef) -> bool) -> Vec<&'a ActionDef> {
    catalog.actions().filter(|a| a.category == category && visible(a)).collect()
}

fn arg_list(args: &[&ArgDef]) -> String {
    let items: Vec<String> = args
        .iter()
        .map(
            |a| if a.description.is_empty() { a.name.clone() } else { format!("{} ({})", a.name, cut(&a.description)) },
        )
        .collect();
    items.join(", ")
}

/// The reference cuts in UTF-16 units (JavaScript string length), so do we.
fn cut(text: &str) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    if units.len() <= CUT_AFTER {
        return text.to_string();
    }
    let mut kept = String::from_utf16_lossy(&units[..CUT_TO]);
    kept.push_str("...");
    kept
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
