//! Deciding one call: the compiled policy, the precedence of its parts, and the
//! [`Decision`] that comes out (a [`Permit`], a [`Denial`] naming its rule and reason, or an
//! [`ApprovalNeed`] naming the rule that asks a person first).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, SystemTime};

use super::document::Effect;
use super::limits::{Call, Limiter};
use super::predicate::{Eval, Predicate};
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
}

impl ToolEntry {
    /// Every `require` must hold and no `deny_if` may; a type mismatch or an argument whose
    /// value cannot be told denies either way.
    fn check(&self, args: &serde_json::Map<String, serde_json::Value>, unknown: Unknown<'_>) -> Result<(), Denial> {
        let eval = |p: &Predicate| if unknown.covers(p.arg_name()) { Eval::Unknown } else { p.eval(args) };
        for p in &self.require {
            match eval(p) {
                Eval::Holds => {}
                outcome @ (Eval::Fails | Eval::Missing | Eval::Mismatch(_) | Eval::Unknown) => {
                    return Err(deny_by(p, outcome, true));
                }
            }
        }
        for p in &self.deny_if {
            match eval(p) {
                Eval::Fails | Eval::Missing => {}
                outcome @ (Eval::Holds | Eval::Mismatch(_) | Eval::Unknown) => return Err(deny_by(p, outcome, false)),
            }
        }
        Ok(())
    }

    /// The rule asking for approval of this call, if one does. A predicate that cannot be
    /// evaluated (type mismatch, unknown argument) denies: a person is not asked to judge a call
    /// the policy cannot read.
    fn approval(
        &self,
        args: &serde_json::Map<String, serde_json::Value>,
        unknown: Unknown<'_>,
    ) -> Result<Option<&RuleId>, Denial> {
        match &self.approval {
            None => Ok(None),
            Some(ApprovalRule::Always(rule)) => Ok(Some(rule)),
            Some(ApprovalRule::When(predicates)) => {
                for p in predicates {
                    let outcome = if unknown.covers(p.arg_name()) { Eval::Unknown } else { p.eval(args) };
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
    pub(crate) fn decide(
        &self,
        limiter: &Limiter,
        req: &Request<'_>,
        scope: ArgScope<'_>,
        approved: bool,
        now: SystemTime,
    ) -> Decision {
        let known = Unknown::Names(scope.unknown);
        // The method's entry: checked here, by each twin of a raw call, or (no twin) blind.
        let method_unknown = match scope.method_rules {
            MethodRules::Check | MethodRules::Twin => Some(known),
            MethodRules::PerTwin => None,
            MethodRules::Opaque => Some(Unknown::All),
        };
        let check_method = |entry: &ToolEntry| match method_unknown {
            Some(unknown) => entry.check(req.args, unknown),
            None => Ok(()),
        };
        let hidden = self.is_hidden(req.action.as_str(), req.method.as_str());
        let by_action = self.actions.get(req.action.as_str());
        let by_method = self.methods.get(req.method.as_str());
        let risk_default = self.risk_defaults[risk_index(req.risk)].as_ref();
        let not_allowed = || format!("action `{}` is not allowed by this policy", req.action);

        // Precedence, first match wins. `Ok((rule, ask))` means allowed so far (limits and
        // approval still apply), carrying the rule that allowed the call, if any, and the rule
        // that asks a person to approve it, if any.
        type Verdict<'r> = Result<(Option<&'r RuleId>, Option<&'r RuleId>), Denial>;
        let verdict: Verdict<'_> = match (hidden, by_action, by_method, risk_default, self.default) {
            // 1. Hidden, by action, by method or by "*": the tool does not exist for the caller.
            (true, ..) => Err(self.hidden_denial(req)),
            // 2. Listed under `tools` by action and by method: both entries must pass, so the
            //    raw API escape hatch cannot launder a method its action may not use; either
            //    entry may ask for approval (the action's first).
            (false, Some(action), Some(method), ..) => action.check(req.args, known).and_then(|()| {
                check_method(method)?;
                let ask = match action.approval(req.args, known)? {
                    Some(rule) => Some(rule),
                    None => approve_method(method, method_unknown, req.args)?,
                };
                Ok((Some(&action.rule), ask))
            }),
            // 3. Listed by action only, or by method only: that entry decides.
            (false, Some(entry), None, ..) => entry
                .check(req.args, known)
                .and_then(|()| entry.approval(req.args, known))
                .map(|ask| (Some(&entry.rule), ask)),
            (false, None, Some(entry), ..) => check_method(entry)
                .and_then(|()| approve_method(entry, method_unknown, req.args))
                .map(|ask| (Some(&entry.rule), ask)),
            // 4. Not listed: the `x-risk-defaults` entry for the call's risk, when present.
            (false, None, None, Some((DefaultEffect::Allow, rule)), _) => Ok((Some(rule), None)),
            (false, None, None, Some((DefaultEffect::Approve, rule)), _) => Ok((Some(rule), Some(rule))),
            (false, None, None, Some((DefaultEffect::Deny, rule)), _) => Err(Denial {
                rule: rule.clone(),
                reason: format!("{} (`{}` actions are denied by default)", not_allowed(), req.risk.as_str()),
                retry_after: None,
            }),
            // 5. Otherwise the document's `default`.
            (false, None, None, None, Effect::Allow) => Ok((None, None)),
            (false, None, None, None, Effect::Deny) => {
                Err(Denial { rule: RuleId::new(DEFAULT_DENY), reason: not_allowed(), retry_after: None })
            }
        };
        let (rule, ask) = match verdict {
            Ok((rule, ask)) => (rule.cloned(), ask),
            Err(denial) => return Decision::Deny(denial),
        };

        // 6. Limits after every rule, so only a call that every rule allows spends quota: the
        //    entries' own limits, then `all_tools`, then the loop breaker, reserved together or
        //    not at all. A raw call's twin counts only its own entry's: the rest were counted
        //    with the call. The method entry's limits on a raw call cannot read the method's
        //    arguments (the raw call's are not them): an `x-key` or `x-amount` there denies.
        let once = scope.method_rules != MethodRules::Twin;
        let method_args = matches!(scope.method_rules, MethodRules::Check | MethodRules::Twin);
        let groups = [
            (by_action.map_or(&[][..], |e| &e.limits[..]), true),
            (by_method.filter(|_| once).map_or(&[][..], |e| &e.limits[..]), method_args),
            (if once { &self.all_tools_limits[..] } else { &[][..] }, true),
        ];
        let call = Call {
            grant: req.grant,
            action: req.action.as_str(),
            args: req.args,
            unknown: scope.unknown,
            // Polling a job's state is waiting, not a loop.
            breaker: once && req.action.as_str() != crate::gateway::JOB_STATUS,
        };
        let reservation = match limiter.reserve(&groups, &call, now) {
            Ok(reservation) => reservation,
            Err(denial) => return Decision::Deny(denial),
        };
        // 7. Approval last, so a call that would be denied is never put to a person. While it
        //    is pending the limits are checked (above) but not spent: the slots go back, and the
        //    approved call takes them when it runs (and is denied then if they are gone).
        match (ask, approved) {
            (Some(ask), false) => {
                if let Some(reservation) = reservation {
                    reservation.rollback();
                }
                let entry = by_action.filter(|e| e.approval.is_some()).or(by_method);
                let ttl = entry.and_then(|e| e.approval_ttl).unwrap_or(self.approval_ttl);
                let wait = entry.and_then(|e| e.approval_wait).unwrap_or(self.approval_wait);
                Decision::NeedsApproval(ApprovalNeed { rule: ask.clone(), ttl, wait })
            }
            (Some(_), true) | (None, _) => {
                Decision::Allow(Permit { action: req.action.clone(), method: req.method.clone(), rule, reservation })
            }
        }
    }
}

/// The method entry's approval rule, read as its checks are (`None`: by each twin instead).
fn approve_method<'e>(
    entry: &'e ToolEntry,
    unknown: Option<Unknown<'_>>,
    args: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<&'e RuleId>, Denial> {
    match unknown {
        Some(unknown) => entry.approval(args, unknown),
        None => Ok(None),
    }
}

impl Policy {
    /// Whether any entry or risk default can ask for approval.
    pub(crate) fn uses_approval(&self) -> bool {
        self.risk_defaults.iter().flatten().any(|(e, _)| *e == DefaultEffect::Approve)
            || self.actions.values().chain(self.methods.values()).any(|e| e.approval.is_some())
    }
}
