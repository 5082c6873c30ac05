//! Compiling a checked policy document into the rules the engine evaluates: predicates with
//! their rule ids, tool entries split into actions and methods, and the limiter's limits.

use std::collections::HashMap;

use serde_json::Value;

use std::time::Duration;

use super::decision::{ApprovalRule, DefaultEffect, Policy, ToolEntry, WindowRule, risk_index};
use super::document::{self, Approval, Limit, Mode, Op, PolicyDocument, RiskEffect, ToolRules};
use super::extensions::{APPROVAL, DEFAULT_APPROVAL_TTL, WHEN};
use super::limits::LimitSpec;
use super::load::{Problem, child, escape};
use super::predicate::Predicate;
use super::when::Windows;
use crate::ids::{Risk, RuleId};

/// Turns a checked document into the engine's rules and the limits for its limiter.
pub(crate) fn compile(doc: &PolicyDocument) -> Result<(Policy, Vec<LimitSpec>), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut limits = Vec::new();
    let mut add_limits = |base: &str, list: &[Limit], fallback: Option<&String>| -> Vec<usize> {
        list.iter()
            .map(|l| {
                limits.push(LimitSpec {
                    rule: RuleId::new(child(base, &l.counter)),
                    counter: l.counter.clone(),
                    window: l.window,
                    max: l.max,
                    scope: l.scope,
                    on_deny: l.on_deny.clone().or_else(|| fallback.cloned()),
                });
                limits.len() - 1
            })
            .collect()
    };
    let all_tools_limits = add_limits("/all_tools/limits", &doc.all_tools.limits, None);

    let mut actions = HashMap::new();
    let mut methods = HashMap::new();
    for (name, rules) in &doc.tools {
        let base = child("/tools", name);
        let entry = ToolEntry {
            rule: RuleId::new(base.clone()),
            require: compile_predicates(&base, "require", rules, &rules.require, &mut problems),
            deny_if: compile_predicates(&base, "deny_if", rules, &rules.deny_if, &mut problems),
            limits: add_limits(&child(&base, "limits"), &rules.limits, rules.on_deny.as_ref()),
            approval: match &rules.approval {
                None => None,
                Some(Approval::Always(_)) => Some(ApprovalRule::Always(RuleId::new(child(&base, APPROVAL)))),
                Some(Approval::When(list)) => {
                    Some(ApprovalRule::When(compile_predicates(&base, APPROVAL, rules, list, &mut problems)))
                }
            },
            approval_ttl: rules.approval_ttl.map(Duration::from_secs),
            approval_wait: rules.approval_wait.map(Duration::from_secs),
            when: rules
                .when
                .as_ref()
                .and_then(|w| window_rule(&child(&base, WHEN), w, rules.on_deny.clone(), &mut problems)),
            shadow: rules.mode == Some(Mode::Shadow),
        };
        // INVARIANT: a name with a dot is a middleware method; action names never contain one.
        let table = if name.contains('.') { &mut methods } else { &mut actions };
        table.insert(name.clone(), entry);
    }

    let mut risk_defaults: [Option<(DefaultEffect, RuleId)>; 3] = Default::default();
    let mut risk_windows: [Option<WindowRule>; 3] = Default::default();
    for (risk, default) in [
        (Risk::Read, &doc.risk_defaults.read),
        (Risk::Write, &doc.risk_defaults.write),
        (Risk::Destructive, &doc.risk_defaults.destructive),
    ] {
        let base = format!("/x-risk-defaults/{}", risk.as_str());
        risk_windows[risk_index(risk)] = default
            .as_ref()
            .and_then(|d| d.when())
            .and_then(|w| window_rule(&child(&base, WHEN), w, None, &mut problems));
        let effect = default.as_ref().map(|d| d.effect()).map(|e| match e {
            RiskEffect::Allow => DefaultEffect::Allow,
            RiskEffect::Deny => DefaultEffect::Deny,
            RiskEffect::Approve => DefaultEffect::Approve,
        });
        risk_defaults[risk_index(risk)] = effect.map(|e| (e, RuleId::new(base)));
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    let policy = Policy {
        default: doc.default,
        risk_defaults,
        risk_windows,
        hide_all: doc.hide.iter().any(|n| n.0 == "*"),
        hidden: doc.hide.iter().map(|n| n.0.clone()).collect(),
        actions,
        methods,
        all_tools_limits,
        approval_ttl: Duration::from_secs(doc.approval_ttl.unwrap_or(DEFAULT_APPROVAL_TTL)),
        approval_wait: Duration::from_secs(doc.approval_wait.unwrap_or(0)),
        shadow: doc.mode == Some(Mode::Shadow),
    };
    Ok((policy, limits))
}

/// An `x-when` already checked by the loader; a problem (none expected) is kept, not dropped.
fn window_rule(rule: &str, value: &Value, on_deny: Option<String>, problems: &mut Vec<Problem>) -> Option<WindowRule> {
    match Windows::parse(value) {
        Ok(windows) => Some(WindowRule { rule: RuleId::new(rule), windows, on_deny }),
        Err(found) => {
            problems.extend(
                found.into_iter().map(|(below, message)| Problem { pointer: format!("{rule}{below}"), message }),
            );
            None
        }
    }
}

fn compile_predicates(
    base: &str,
    list: &str,
    rules: &ToolRules,
    predicates: &[document::Predicate],
    problems: &mut Vec<Problem>,
) -> Vec<Predicate> {
    let mut out = Vec::with_capacity(predicates.len());
    for (i, p) in predicates.iter().enumerate() {
        let id = format!("{}-{}", p.path, p.op.as_str());
        let rule = RuleId::new(format!("{base}/{list}/{}", escape(&id)));
        // An absent `value` reads as null; for `exists` that means the default, `true`.
        let value = match (p.op, &p.value) {
            (Op::Exists, Value::Null) => None,
            (_, v) => Some(v),
        };
        let on_deny = p.on_deny.clone().or_else(|| rules.on_deny.clone());
        match Predicate::new(rule, &p.path, p.op, value, on_deny) {
            Ok(compiled) => out.push(compiled),
            Err(message) => problems.push(Problem { pointer: format!("{base}/{list}/{i}"), message }),
        }
    }
    out
}
