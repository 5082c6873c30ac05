//! A human summary of a loaded policy, printed by `truenas-mcp policy check FILE`.

use std::fmt::Write as _;

use serde_json::Value;

use super::document::{Approval, Limit, LoopBreakerSetting, PolicyDocument, Predicate, Version};
use super::extensions::DEFAULT_APPROVAL_TTL;
use super::when::Windows;

/// Several lines: defaults, hidden tools, limits and the rules of each listed tool.
pub(crate) fn summarize(doc: &PolicyDocument) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, doc);
    out
}

fn write_summary(out: &mut String, doc: &PolicyDocument) -> std::fmt::Result {
    let version = match doc.version {
        Version::V1 => "1",
    };
    writeln!(out, "policy version {version}")?;
    if let Some(description) = &doc.description {
        writeln!(out, "description: {description}")?;
    }
    writeln!(out, "default: {} for tools not listed", doc.default.as_str())?;
    let risk = &doc.risk_defaults;
    let risk_parts: Vec<String> = [("read", &risk.read), ("write", &risk.write), ("destructive", &risk.destructive)]
        .into_iter()
        .filter_map(|(name, d)| {
            d.as_ref().map(|d| match d.when().and_then(|w| Windows::parse(w).ok()) {
                Some(windows) => format!("{name} {} only {}", d.effect().as_str(), windows.shown()),
                None => format!("{name} {}", d.effect().as_str()),
            })
        })
        .collect();
    if !risk_parts.is_empty() {
        writeln!(out, "risk defaults (x-risk-defaults): {}", risk_parts.join(", "))?;
    }
    let asks = doc.tools.values().any(|t| t.approval.is_some())
        || [&risk.read, &risk.write, &risk.destructive].into_iter().flatten().any(|d| d.effect().as_str() == "approve");
    if asks {
        writeln!(
            out,
            "approvals: valid for {} s once asked (x-approval-ttl); calls wait {} s for an answer (x-approval-wait)",
            doc.approval_ttl.unwrap_or(DEFAULT_APPROVAL_TTL),
            doc.approval_wait.unwrap_or(0)
        )?;
    }
    if let Some(LoopBreakerSetting::On(b)) = &doc.loop_breaker {
        writeln!(out, "loop breaker (x-loop-breaker): the same call at most {} times in any {}", b.max, b.rolling)?;
    }
    if doc.hide.iter().any(|n| n.0 == "*") {
        writeln!(out, "hidden: every tool (*)")?;
    } else if !doc.hide.is_empty() {
        let names: Vec<&str> = doc.hide.iter().map(|n| n.0.as_str()).collect();
        writeln!(out, "hidden: {}", names.join(", "))?;
    }
    if !doc.all_tools.limits.is_empty() {
        writeln!(out, "every tool:")?;
        for limit in &doc.all_tools.limits {
            writeln!(out, "  {}", limit_line(limit))?;
        }
    }
    let tools: Vec<_> = doc.tools.iter().filter(|(name, _)| !name.starts_with("x-")).collect();
    if tools.is_empty() {
        writeln!(out, "tools: none listed")?;
    } else {
        writeln!(out, "tools ({}):", tools.len())?;
    }
    for (name, rules) in tools {
        let kind = if name.contains('.') { "method" } else { "action" };
        writeln!(out, "  {name} ({kind})")?;
        if rules.require.is_empty()
            && rules.deny_if.is_empty()
            && rules.limits.is_empty()
            && rules.approval.is_none()
            && rules.when.is_none()
        {
            writeln!(out, "    allowed, no conditions")?;
        }
        if let Some(windows) = rules.when.as_ref().and_then(|w| Windows::parse(w).ok()) {
            writeln!(out, "    only {} (x-when)", windows.shown())?;
        }
        for p in &rules.require {
            writeln!(out, "    require {}", predicate_line(p))?;
        }
        for p in &rules.deny_if {
            writeln!(out, "    deny if {}", predicate_line(p))?;
        }
        for limit in &rules.limits {
            writeln!(out, "    {}", limit_line(limit))?;
        }
        match &rules.approval {
            None => {}
            Some(Approval::Always(_)) => writeln!(out, "    needs a person's approval")?,
            Some(Approval::When(list)) => {
                for p in list {
                    writeln!(out, "    needs a person's approval if {}", predicate_line(p))?;
                }
            }
        }
    }
    Ok(())
}

fn predicate_line(p: &Predicate) -> String {
    match &p.value {
        Value::Null if p.op.as_str() == "exists" => format!("`{}` exists", p.path),
        value => format!("`{}` {} `{value}`", p.path, p.op.as_str()),
    }
}

fn limit_line(limit: &Limit) -> String {
    let max = limit.max.unwrap_or(0);
    let what = match &limit.amount {
        Some(path) => format!("{max} of `{path}`"),
        None => max.to_string(),
    };
    let bound = match (&limit.window, &limit.rolling, limit.cooldown, limit.concurrency) {
        (Some(window), ..) => format!("{what} per {}", window.as_str()),
        (None, Some(span), ..) => format!("{what} in any {span}"),
        (None, None, Some(secs), _) => format!("one call every {secs} s"),
        (None, None, None, Some(n)) => format!("{n} in flight at once"),
        (None, None, None, None) => "no bound".to_owned(),
    };
    let key = limit.key.as_ref().map(|k| format!(" for each `{k}`")).unwrap_or_default();
    format!("limit `{}`: {bound}{key} per {}", limit.counter, limit.scope.as_str())
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
