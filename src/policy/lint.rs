//! Warnings about a policy that loads: rules that can never match or always deny, entries that
//! never apply, and actions an entry makes reachable that the defaults would deny. They do not
//! stop a load; `truenas-mcp policy check` prints them.

use serde_json::Value;

use super::document::{Effect, Limit, Op, PolicyDocument, Predicate, RiskEffect, ToolRules};
use super::load::{Problem, child};
use super::names::{Arg, Target, Tool, Vocabulary};
use super::predicate::parse_path;
use crate::catalog::ArgType;
use crate::ids::Risk;

/// Every warning about a checked document: `all_tools` first, then the tools entries by name.
pub(crate) fn warnings(doc: &PolicyDocument, vocabulary: &Vocabulary<'_>) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut warn = |pointer: String, message: String| out.push(Problem { pointer, message });
    for (i, limit) in doc.all_tools.limits.iter().enumerate() {
        if limit.max == Some(0) {
            let message = format!("limit `{}` has `max: 0`, so it denies every call of every tool", limit.counter);
            warn(format!("/all_tools/limits/{i}/max"), message);
        }
    }
    for (name, rules) in &doc.tools {
        let at = child("/tools", name);
        // INVARIANT: the loader refused names the vocabulary does not know.
        let Ok(tool) = vocabulary.tool(name) else { continue };
        if let Some(by) = hidden_by(doc, name, &tool) {
            warn(at, format!("`{name}` is hidden by {by}, so this entry never applies"));
            continue;
        }
        for (list, predicates) in [("require", &rules.require), ("deny_if", &rules.deny_if)] {
            for (i, p) in predicates.iter().enumerate() {
                for message in predicate(p, &tool) {
                    warn(format!("{at}/{list}/{i}"), message);
                }
            }
        }
        limits(&rules.limits, name, &at, &mut warn);
        for message in reachable(doc, name, &tool, rules) {
            warn(at.clone(), message);
        }
    }
    out
}

/// The `hide` entry that hides what `name` names, if one does.
fn hidden_by(doc: &PolicyDocument, name: &str, tool: &Tool<'_>) -> Option<String> {
    let names: Vec<&str> = match tool {
        Tool::Action(t) => std::iter::once(name).chain(t.methods.iter().copied()).collect(),
        Tool::Method { .. } => vec![name],
    };
    let i = doc.hide.iter().position(|h| h.0 == "*" || names.contains(&h.0.as_str()))?;
    Some(format!("`/hide/{i}` (`{}`)", doc.hide[i].0))
}

fn limits(list: &[Limit], name: &str, at: &str, warn: &mut impl FnMut(String, String)) {
    for (i, limit) in list.iter().enumerate() {
        if limit.max == Some(0) {
            warn(
                format!("{at}/limits/{i}/max"),
                format!(
                    "limit `{}` has `max: 0`, so this entry denies every call of `{name}`; to forbid the tool, \
                     hide it or leave it out",
                    limit.counter
                ),
            );
        }
    }
}

/// What is wrong with one predicate for each action its entry applies to.
fn predicate(p: &Predicate, tool: &Tool<'_>) -> Vec<String> {
    let Ok(segments) = parse_path(&p.path) else { return Vec::new() };
    // Only a top-level argument has a declared type to check against.
    let [first] = segments.as_slice() else { return Vec::new() };
    let mut out = Vec::new();
    for target in tool.targets() {
        let Some(arg) = target.args.iter().find(|a| a.name == first.as_str()) else { continue };
        if let Some(message) = mismatch(p, target, arg) {
            out.push(message);
        }
    }
    out
}

fn mismatch(p: &Predicate, target: &Target<'_>, arg: &Arg<'_>) -> Option<String> {
    let what = format!("`{}` of `{}` is {}", p.path, target.action, arg.kind.with_article());
    let always_denies =
        |needs: &str| format!("{what}, but `{}` needs {needs}: every call that passes it is denied", p.op.as_str());
    match p.op {
        Op::Lt | Op::Lte | Op::Gt | Op::Gte if !matches!(arg.kind, ArgType::Integer | ArgType::Number) => {
            Some(always_denies("a number"))
        }
        Op::Regex if arg.kind != ArgType::String => Some(always_denies("a string")),
        Op::Contains if !matches!(arg.kind, ArgType::String | ArgType::Array) => {
            Some(always_denies("a string or an array"))
        }
        Op::Eq | Op::Neq => impossible(&p.value, arg).map(|why| {
            let never = if p.op == Op::Eq { "never holds" } else { "always holds" };
            format!("{what}, so it never equals `{}` ({why}): this predicate {never}", p.value)
        }),
        Op::In | Op::NotIn => {
            let values = p.value.as_array()?;
            let bad: Vec<String> =
                values.iter().filter_map(|v| impossible(v, arg).map(|why| format!("`{v}` ({why})"))).collect();
            if bad.is_empty() {
                return None;
            }
            let never = match (p.op, bad.len() == values.len()) {
                (Op::In, true) => "this predicate never holds",
                (Op::NotIn, true) => "this predicate always holds",
                _ => "those values never match",
            };
            Some(format!("{what}; it can never be {}, so {never}", bad.join(", ")))
        }
        _ => None,
    }
}

/// Why `arg` can never have `value`, if it cannot.
fn impossible(value: &Value, arg: &Arg<'_>) -> Option<String> {
    if !arg.kind.accepts(value) {
        return Some(format!("not {}", arg.kind.with_article()));
    }
    let allowed = arg.enum_values?;
    if allowed.contains(value) {
        return None;
    }
    let listed: Vec<String> = allowed.iter().map(|v| format!("`{v}`")).collect();
    Some(format!("the argument takes only {}", listed.join(", ")))
}

/// Actions this entry makes reachable that the defaults would deny. Reads under a plain
/// `default: deny` are the usual allowlist and draw no warning.
fn reachable(doc: &PolicyDocument, name: &str, tool: &Tool<'_>, rules: &ToolRules) -> Vec<String> {
    let mut out = Vec::new();
    for target in tool.targets() {
        // An entry that denies every call of this action (`deny_if` on an argument every call
        // has) opens nothing: the usual way to turn a tool off with a message.
        if rules.deny_if.iter().any(|p| always_present(p, target)) {
            continue;
        }
        // A caller with its own entry is decided by that entry too; warn there, not here.
        if matches!(tool, Tool::Method { .. }) && (doc.tools.contains_key(target.action) || hidden(doc, target)) {
            continue;
        }
        let Some(denier) = default_denies(doc, target.risk) else { continue };
        let risk = target.risk.as_str();
        let allows = match tool {
            Tool::Action(_) => "this entry allows it".to_owned(),
            Tool::Method { .. } => format!("this entry for method `{name}` allows it"),
        };
        out.push(format!("`{}` is {risk} and {denier}; {allows}", target.action));
    }
    out
}

/// Whether `p` is `exists` on an argument every call of `target` has (required or defaulted).
fn always_present(p: &Predicate, target: &Target<'_>) -> bool {
    let wants_present = matches!(p.value, Value::Null | Value::Bool(true));
    let Ok(segments) = parse_path(&p.path) else { return false };
    let [first] = segments.as_slice() else { return false };
    p.op == Op::Exists && wants_present && target.args.iter().any(|a| a.always_given && a.name == first.as_str())
}

fn hidden(doc: &PolicyDocument, target: &Target<'_>) -> bool {
    doc.hide.iter().any(|h| h.0 == "*" || h.0 == target.action || target.methods.contains(&h.0.as_str()))
}

/// How the defaults deny an unlisted action of `risk`, if they do.
fn default_denies(doc: &PolicyDocument, risk: Risk) -> Option<String> {
    let by_risk = match risk {
        Risk::Read => &doc.risk_defaults.read,
        Risk::Write => &doc.risk_defaults.write,
        Risk::Destructive => &doc.risk_defaults.destructive,
    }
    .as_ref()
    .map(super::document::RiskDefault::effect);
    match (by_risk, doc.default) {
        (Some(RiskEffect::Deny), _) => {
            Some(format!("the default denies {} actions (`/x-risk-defaults/{}`)", risk.as_str(), risk.as_str()))
        }
        (None, Effect::Deny) if risk != Risk::Read => Some("the default (`default: deny`) denies it".to_owned()),
        _ => None,
    }
}

#[cfg(test)]
#[path = "lint_tests.rs"]
mod tests;
