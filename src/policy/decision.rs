//! Deciding one call: the compiled policy, the precedence of its parts, and the
//! [`Decision`] that comes out (a [`Permit`], a [`Denial`] naming its rule and reason, or an
//! [`ApprovalNeed`] naming the rule that asks a person first).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use super::document::Effect;
use super::limits::{Call, Group, Limiter, whole_seconds_up};
use super::predicate::{Eval, Predicate};
use super::trace::{Step, Tracer, step};
use super::when::Windows;
use super::{ArgScope, MethodRules, Permit, Request};
use crate::ids::{Risk, RuleId};

/// Rule id of a denial because the tool is hidden.
pub(crate) const HIDDEN: &str = "(hidden)";
/// Rule id of a denial by the document's `default: deny`.
pub(crate) const DEFAULT_DENY: &str = "(default deny)";

/// The outcome of [`PolicyEngine::authorize`](super::PolicyEngine::authorize).
#[derive(Debug)]
pub enum Decision {
    /// The call may go to the NAS; the permit is what the NAS client takes.
    Allow(Permit),
    /// The call is refused; nothing may be sent.
    Deny(Denial),
    /// Every rule allows the call and its limits have room, but a person must approve it
    /// first; nothing was reserved and nothing may be sent yet.
    NeedsApproval(ApprovalNeed),
}

/// Why and how a call waits for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalNeed {
    /// The rule that asks: `/tools/<name>/x-approval[/<predicate>]` or `/x-risk-defaults/<risk>`.
    pub rule: RuleId,
    /// How long an approval stays valid once asked for.
    pub ttl: Duration,
    /// How long to hold the call open waiting for an answer (zero: answer at once).
    pub wait: Duration,
}

/// What `x-risk-defaults` decided for a risk class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DefaultEffect {
    Allow,
    Deny,
    Approve,
}

/// When a tool entry asks for approval.
#[derive(Debug)]
pub(crate) enum ApprovalRule {
    /// Every call it allows (rule `/tools/<name>/x-approval`).
    Always(RuleId),
    /// Calls for which any predicate holds.
    When(Vec<Predicate>),
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The rule that denied: a JSON Pointer into the policy, `(hidden)` or `(default deny)`.
    pub rule: RuleId,
    /// What the agent reads: the rule's `on_deny`, or a message from the engine.
    pub reason: String,
    /// For a limit: the time until its window resets.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[POLICY DENIED] {} (rule: {})", self.reason, self.rule)
    }
}

/// A policy compiled for deciding.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) default: Effect,
    /// Indexed by [`risk_index`]: the effect and its rule id `/x-risk-defaults/<risk>`.
    pub(crate) risk_defaults: [Option<(DefaultEffect, RuleId)>; 3],
    /// Indexed by [`risk_index`]: the risk default's `x-when`, if it has one.
    pub(crate) risk_windows: [Option<WindowRule>; 3],
    /// `hide` contains `"*"`.
    pub(crate) hide_all: bool,
    pub(crate) hidden: HashSet<String>,
    /// Entries under `tools` named by action.
    pub(crate) actions: HashMap<String, ToolEntry>,
    /// Entries under `tools` named by middleware method (names with a dot).
    pub(crate) methods: HashMap<String, ToolEntry>,
    /// Indexes into the limiter of `all_tools.limits`.
    pub(crate) all_tools_limits: Vec<usize>,
    /// `x-approval-ttl` at the top (default ten minutes).
    pub(crate) approval_ttl: Duration,
    /// `x-approval-wait` at the top (default zero).
    pub(crate) approval_wait: Duration,
    /// `x-mode: shadow` at the top: every rule is advisory.
    pub(crate) shadow: bool,
}

/// One entry under `tools`.
#[derive(Debug)]
pub(crate) struct ToolEntry {
    /// `/tools/<name>`: the rule an allowed call's permit carries.
    pub(crate) rule: RuleId,
    pub(crate) require: Vec<Predicate>,
    pub(crate) deny_if: Vec<Predicate>,
    /// Indexes into the limiter.
    pub(crate) limits: Vec<usize>,
    /// `x-approval`, if the entry asks for one.
    pub(crate) approval: Option<ApprovalRule>,
    /// The entry's own `x-approval-ttl`.
    pub(crate) approval_ttl: Option<Duration>,
    /// The entry's own `x-approval-wait`.
    pub(crate) approval_wait: Option<Duration>,
    /// `x-mode: shadow`: the entry's rules, limits and approval are advisory.
    pub(crate) shadow: bool,
    /// `x-when`, if the entry has maintenance windows.
    pub(crate) when: Option<WindowRule>,
}

/// An `x-when`: the windows, the rule id (`/tools/<name>/x-when` or
/// `/x-risk-defaults/<risk>/x-when`) and the author's message, if any.
#[derive(Debug)]
pub(crate) struct WindowRule {
    pub(crate) rule: RuleId,
    pub(crate) windows: Windows,
    pub(crate) on_deny: Option<String>,
}

impl WindowRule {
    /// A denial naming the windows and the wait, unless a window is open at `now`.
    fn check(&self, what: &str, now: SystemTime) -> Result<(), Denial> {
        let Some(wait) = self.windows.closed_for(now) else { return Ok(()) };
        let base = match &self.on_deny {
            Some(text) => text.clone(),
            None => format!("{what} is only allowed {} (maintenance window)", self.windows.shown()),
        };
        Err(Denial {
            rule: self.rule.clone(),
            reason: format!("{base}; retry after {} s", whole_seconds_up(wait)),
            retry_after: Some(wait),
        })
    }
}

impl ToolEntry {
    /// Every `require` must hold and no `deny_if` may; a type mismatch or an argument whose
    /// value cannot be told denies either way. Then the entry's maintenance windows: a call
    /// its predicates deny is told so, not told to retry later.
    fn check(
        &self,
        args: &serde_json::Map<String, serde_json::Value>,
        unknown: Unknown<'_>,
        trace: Tracer<'_>,
        action: &str,
        now: SystemTime,
    ) -> Result<(), Denial> {
        let eval = |p: &Predicate| if unknown.covers(p.arg_name()) { Eval::Unknown } else { p.eval(args) };
        for p in &self.require {
            let outcome = eval(p);
            let denies = !matches!(outcome, Eval::Holds);
            trace.note(|| predicate_step(p, "require", outcome, denies));
            if denies {
                return Err(deny_by(p, outcome, true));
            }
        }
        for p in &self.deny_if {
            let outcome = eval(p);
            let denies = !matches!(outcome, Eval::Fails | Eval::Missing);
            trace.note(|| predicate_step(p, "deny_if", outcome, denies));
            if denies {
                return Err(deny_by(p, outcome, false));
            }
        }
        match &self.when {
            Some(when) => {
                let result = when.check(&format!("`{action}`"), now);
                trace.note(|| window_step(when, &result));
                result
            }
            None => Ok(()),
        }
    }

    /// The rule asking for approval of this call, if one does. A predicate that cannot be
    /// evaluated (type mismatch, unknown argument) denies: a person is not asked to judge a call
    /// the policy cannot read.
    fn approval(
        &self,
        args: &serde_json::Map<String, serde_json::Value>,
        unknown: Unknown<'_>,
        trace: Tracer<'_>,
    ) -> Result<Option<&RuleId>, Denial> {
        match &self.approval {
            None => Ok(None),
            Some(ApprovalRule::Always(rule)) => {
                trace.note(|| step(rule.as_str(), "x-approval", "asks", "every call this entry allows"));
                Ok(Some(rule))
            }
            Some(ApprovalRule::When(predicates)) => {
                for p in predicates {
                    let outcome = if unknown.covers(p.arg_name()) { Eval::Unknown } else { p.eval(args) };
                    let denies = matches!(outcome, Eval::Mismatch(_) | Eval::Unknown);
                    trace.note(|| {
                        let mut s = predicate_step(p, "x-approval", outcome, denies);
                        if outcome == Eval::Holds {
                            s.outcome = "asks";
                        }
                        s
                    });
                    match outcome {
                        Eval::Holds => return Ok(Some(&p.rule)),
                        Eval::Fails | Eval::Missing => {}
                        outcome @ (Eval::Mismatch(_) | Eval::Unknown) => return Err(deny_by(p, outcome, false)),
                    }
                }
                Ok(None)
            }
        }
    }

    /// Whether `rule` is this entry's or one of its parts' (`/tools/<name>/...`).
    fn owns(&self, rule: &RuleId) -> bool {
        let (own, other) = (self.rule.as_str(), rule.as_str());
        other == own || other.strip_prefix(own).is_some_and(|rest| rest.starts_with('/'))
    }
}

/// A predicate's step: what it tests, what the argument gave, and whether that denies.
fn predicate_step(p: &Predicate, list: &'static str, outcome: Eval, denies: bool) -> Step {
    let found = match outcome {
        Eval::Holds => "holds".to_owned(),
        Eval::Fails => "does not hold".to_owned(),
        Eval::Missing => "the argument is absent (false)".to_owned(),
        Eval::Mismatch(kind) => format!("the argument is {kind}, which it cannot test"),
        Eval::Unknown => "the argument's value cannot be told".to_owned(),
    };
    step(p.rule.as_str(), list, if denies { "denies" } else { "passes" }, format!("{}: {found}", p.describe()))
}

/// Which arguments a check cannot read.
#[derive(Debug, Clone, Copy)]
enum Unknown<'a> {
    /// These (none when `None`).
    Names(Option<&'a std::collections::BTreeSet<String>>),
    /// Every one.
    All,
}

impl Unknown<'_> {
    fn covers(self, name: &str) -> bool {
        match self {
            Unknown::Names(names) => names.is_some_and(|n| n.contains(name)),
            Unknown::All => true,
        }
    }
}

fn deny_by(p: &Predicate, outcome: Eval, required: bool) -> Denial {
    Denial { rule: p.rule.clone(), reason: p.reason(outcome, required), retry_after: None }
}

pub(crate) fn risk_index(risk: Risk) -> usize {
    match risk {
        Risk::Read => 0,
        Risk::Write => 1,
        Risk::Destructive => 2,
    }
}

impl Policy {
    pub(crate) fn is_hidden(&self, action: &str, method: &str) -> bool {
        self.hide_all || self.hidden.contains(action) || self.hidden.contains(method)
    }

    fn hidden_denial(&self, req: &Request<'_>) -> Denial {
        let reason = if self.hide_all {
            "every tool is hidden by this policy".to_owned()
        } else if self.hidden.contains(req.action.as_str()) {
            format!("action `{}` is hidden by this policy", req.action)
        } else {
            format!("method `{}` is hidden by this policy", req.method)
        };
        Denial { rule: RuleId::new(HIDDEN), reason, retry_after: None }
    }

    /// Decides one call. Pure apart from the limit counters, which only an allowed call moves.
    /// `approved` says that a person has approved this very call (the approval step passes).
    /// `trace` is told every rule considered, in order (`policy explain`).
    ///
    /// Shadow (`x-mode: shadow` on the document or an entry): a denial or approval need by an
    /// advisory rule lets the call through, carried on the permit as `would_deny` or
    /// `would_approve`; enforcing rules still decide. Hidden is never advisory.
    pub(crate) fn decide(
        &self,
        limiter: &Limiter,
        req: &Request<'_>,
        scope: ArgScope<'_>,
        approved: bool,
        now: SystemTime,
        trace: Tracer<'_>,
    ) -> Decision {
        let known = Unknown::Names(scope.unknown);
        // The method's entry: checked here, by each twin of a raw call, or (no twin) blind.
        let method_unknown = match scope.method_rules {
            MethodRules::Check | MethodRules::Twin => Some(known),
            MethodRules::PerTwin => None,
            MethodRules::Opaque => Some(Unknown::All),
        };
        let hidden = self.is_hidden(req.action.as_str(), req.method.as_str());
        let by_action = self.actions.get(req.action.as_str());
        let by_method = self.methods.get(req.method.as_str());
        let risk_default = self.risk_defaults[risk_index(req.risk)].as_ref();
        let not_allowed = || format!("action `{}` is not allowed by this policy", req.action);
        // A rule is advisory when the document is in shadow mode or the rule belongs to an
        // entry that is.
        let advisory = |rule: &RuleId| {
            self.shadow || [by_action, by_method].into_iter().flatten().any(|e| e.shadow && e.owns(rule))
        };
        trace.note(|| {
            let why = if hidden { self.hidden_denial(req).reason } else { "not hidden".to_owned() };
            step(HIDDEN, "hide", if hidden { "denies" } else { "passes" }, why)
        });
        if !hidden {
            trace.note(|| entry_step(by_action, "/tools", req.action.as_str(), "action"));
            trace.note(|| entry_step(by_method, "/tools", req.method.as_str(), "method"));
        }

        // Precedence, first match wins. The rules give the rule that allowed the call (if
        // any), the rule that asks a person to approve it (if any), and every denial, in order:
        // the first that is not advisory decides; an advisory one is only recorded. Limits and
        // approval come after.
        let judge = |entry, unknown| judge(entry, unknown, req, now, trace);
        let (rule, ask, denials): (Option<&RuleId>, Option<&RuleId>, Vec<Denial>) =
            match (hidden, by_action, by_method, risk_default, self.default) {
                // 1. Hidden, by action, by method or by "*": the tool does not exist for the
                //    caller. Never advisory: shadow mode does not reveal a hidden tool.
                (true, ..) => return Decision::Deny(self.hidden_denial(req)),
                // 2. Listed under `tools` by action and by method: both entries must pass, so
                //    the raw API escape hatch cannot launder a method its action may not use;
                //    either may ask for approval (the action's first). Each entry is judged
                //    whole, so an advisory entry's denial does not skip the other's rules.
                (false, Some(action), Some(method), ..) => {
                    let (a, m) = (judge(action, Some(known)), judge(method, method_unknown));
                    let ask = a.as_ref().ok().copied().flatten().or(m.as_ref().ok().copied().flatten());
                    (Some(&action.rule), ask, [a.err(), m.err()].into_iter().flatten().collect())
                }
                // 3. Listed by action only, or by method only: that entry decides.
                (false, Some(entry), None, ..) | (false, None, Some(entry), ..) => {
                    let unknown = if by_action.is_some() { Some(known) } else { method_unknown };
                    match judge(entry, unknown) {
                        Ok(ask) => (Some(&entry.rule), ask, Vec::new()),
                        Err(denial) => (Some(&entry.rule), None, vec![denial]),
                    }
                }
                // 4. Not listed: the `x-risk-defaults` entry for the call's risk, when present.
                (false, None, None, Some((effect, rule)), _) => {
                    let risk = req.risk.as_str();
                    let (outcome, why) = match effect {
                        DefaultEffect::Allow => ("passes", "allowed"),
                        DefaultEffect::Approve => ("asks", "put to a person"),
                        DefaultEffect::Deny => ("denies", "denied"),
                    };
                    trace.note(|| {
                        step(rule.as_str(), "x-risk-defaults", outcome, format!("`{risk}` actions are {why}"))
                    });
                    let window = match effect {
                        DefaultEffect::Allow | DefaultEffect::Approve => self.risk_window(req, now, trace),
                        DefaultEffect::Deny => Ok(()),
                    };
                    match (effect, window) {
                        (_, Err(closed)) => (None, None, vec![closed]),
                        (DefaultEffect::Allow, Ok(())) => (Some(rule), None, Vec::new()),
                        (DefaultEffect::Approve, Ok(())) => (Some(rule), Some(rule), Vec::new()),
                        (DefaultEffect::Deny, Ok(())) => {
                            let reason = format!("{} (`{risk}` actions are denied by default)", not_allowed());
                            (None, None, vec![Denial { rule: rule.clone(), reason, retry_after: None }])
                        }
                    }
                }
                // 5. Otherwise the document's `default`.
                (false, None, None, None, Effect::Allow) => {
                    trace.note(|| step("(default allow)", "default", "passes", "`default` is `allow`"));
                    (None, None, Vec::new())
                }
                (false, None, None, None, Effect::Deny) => {
                    trace.note(|| step(DEFAULT_DENY, "default", "denies", "`default` is `deny`"));
                    let denial = Denial { rule: RuleId::new(DEFAULT_DENY), reason: not_allowed(), retry_after: None };
                    (None, None, vec![denial])
                }
            };
        let mut would_deny = None;
        for denial in denials {
            if !advisory(&denial.rule) {
                return Decision::Deny(denial);
            }
            trace.note(|| step(denial.rule.as_str(), "x-mode", "shadowed", "shadow: recorded as `would_deny`"));
            would_deny.get_or_insert(denial);
        }
        let rule = rule.cloned();

        // 6. Limits after every rule, so only a call that every rule allows spends quota: the
        //    entries' own limits, then `all_tools`, then the loop breaker, reserved together or
        //    not at all. A raw call's twin counts only its own entry's: the rest were counted
        //    with the call. The method entry's limits on a raw call cannot read the method's
        //    arguments (the raw call's are not them): an `x-key` or `x-amount` there denies.
        //    An advisory group is left out once an advisory rule would deny the call: enforced,
        //    that call would not have counted.
        let once = scope.method_rules != MethodRules::Twin;
        let method_args = matches!(scope.method_rules, MethodRules::Check | MethodRules::Twin);
        let groups = [
            (by_action.map_or(&[][..], |e| &e.limits[..]), true),
            (by_method.filter(|_| once).map_or(&[][..], |e| &e.limits[..]), method_args),
            (if once { &self.all_tools_limits[..] } else { &[][..] }, true),
        ];
        let shadowed = [
            self.shadow || by_action.is_some_and(|e| e.shadow),
            self.shadow || by_method.is_some_and(|e| e.shadow),
            self.shadow,
        ];
        // No allocation on the hot path: an advisory group is an empty one in `enforced`.
        let enforced: [Group<'_>; 3] =
            std::array::from_fn(|i| if shadowed[i] { (&[][..], groups[i].1) } else { groups[i] });
        trace.note_all(|| {
            limiter.usage(&groups, req.grant, now).into_iter().map(|(rule, left, describe)| {
                let counted = match left {
                    Some(left) => format!("{left} left of {describe}"),
                    None => describe,
                };
                step(rule.as_str(), "limit", "counted", counted)
            })
        });
        let call = Call {
            grant: req.grant,
            action: req.action.as_str(),
            args: req.args,
            unknown: scope.unknown,
            // Polling a job's state is waiting, not a loop.
            breaker: once && req.action.as_str() != crate::gateway::JOB_STATUS,
        };
        // The loop breaker is advisory with the document.
        let enforced_call = Call { breaker: call.breaker && !self.shadow, ..call };
        let reserved = if would_deny.is_some() {
            limiter.reserve(&enforced, &enforced_call, now)
        } else {
            match limiter.reserve(&groups, &call, now) {
                Err(denial) if advisory(&denial.rule) => {
                    trace.note(|| step(denial.rule.as_str(), "x-mode", "shadowed", "shadow: recorded as `would_deny`"));
                    would_deny = Some(denial);
                    limiter.reserve(&enforced, &enforced_call, now)
                }
                other => other,
            }
        };
        let reservation = match reserved {
            Ok(reservation) => reservation,
            Err(denial) => {
                trace.note(|| step(denial.rule.as_str(), "limit", "denies", denial.reason.clone()));
                return Decision::Deny(denial);
            }
        };
        // 7. Approval last, so a call that would be denied is never put to a person. While it
        //    is pending the limits are checked (above) but not spent: the slots go back, and the
        //    approved call takes them when it runs (and is denied then if they are gone). An
        //    advisory rule's need is only recorded.
        let mut would_approve = None;
        let permit = |reservation, would_deny, would_approve| Permit {
            action: req.action.clone(),
            method: req.method.clone(),
            rule: rule.clone(),
            reservation,
            would_deny,
            would_approve,
        };
        match (ask, approved) {
            (Some(ask), false) if advisory(ask) => {
                trace.note(|| step(ask.as_str(), "x-mode", "shadowed", "shadow: recorded as `would_approve`"));
                would_approve = Some(ask.clone());
                Decision::Allow(permit(reservation, would_deny, would_approve))
            }
            (Some(ask), false) => {
                if let Some(reservation) = reservation {
                    reservation.rollback();
                }
                let entry = by_action.filter(|e| e.approval.is_some()).or(by_method);
                let ttl = entry.and_then(|e| e.approval_ttl).unwrap_or(self.approval_ttl);
                let wait = entry.and_then(|e| e.approval_wait).unwrap_or(self.approval_wait);
                Decision::NeedsApproval(ApprovalNeed { rule: ask.clone(), ttl, wait })
            }
            (Some(_), true) | (None, _) => Decision::Allow(permit(reservation, would_deny, would_approve)),
        }
    }
}

/// One entry's rules and approval, read with `unknown` arguments (`None`: not here, by each
/// twin of a raw call instead).
fn judge<'e>(
    entry: &'e ToolEntry,
    unknown: Option<Unknown<'_>>,
    req: &Request<'_>,
    now: SystemTime,
    trace: Tracer<'_>,
) -> Result<Option<&'e RuleId>, Denial> {
    match unknown {
        Some(unknown) => entry
            .check(req.args, unknown, trace, req.action.as_str(), now)
            .and_then(|()| entry.approval(req.args, unknown, trace)),
        None => Ok(None),
    }
}

impl Policy {
    /// The maintenance windows of the risk default deciding `req`, if it has some.
    fn risk_window(&self, req: &Request<'_>, now: SystemTime, trace: Tracer<'_>) -> Result<(), Denial> {
        match &self.risk_windows[risk_index(req.risk)] {
            Some(when) => {
                let result = when.check(&format!("`{}` (a {} action)", req.action, req.risk.as_str()), now);
                trace.note(|| window_step(when, &result));
                result
            }
            None => Ok(()),
        }
    }
}

/// A maintenance window's step in a trace.
fn window_step(when: &WindowRule, result: &Result<(), Denial>) -> Step {
    match result {
        Ok(()) => step(when.rule.as_str(), "x-when", "passes", format!("inside {}", when.windows.shown())),
        Err(denial) => step(when.rule.as_str(), "x-when", "denies", denial.reason.clone()),
    }
}

/// Whether a `tools` entry names the call's action (or method).
fn entry_step(entry: Option<&ToolEntry>, base: &str, name: &str, by: &str) -> Step {
    match entry {
        Some(e) => {
            let mode = if e.shadow { " (x-mode: shadow)" } else { "" };
            step(e.rule.as_str(), "entry", "found", format!("listed by {by} `{name}`{mode}"))
        }
        None => step(super::load::child(base, name), "entry", "absent", format!("no entry for {by} `{name}`")),
    }
}

impl Policy {
    /// Whether any entry or risk default can ask for approval.
    pub(crate) fn uses_approval(&self) -> bool {
        self.risk_defaults.iter().flatten().any(|(e, _)| *e == DefaultEffect::Approve)
            || self.actions.values().chain(self.methods.values()).any(|e| e.approval.is_some())
    }
}

#[cfg(test)]
#[path = "decision_tests/mod.rs"]
mod tests;
