//! Where a grant stands, read from the policy without deciding a call: each action's
//! [`Standing`] (hidden, denied outright, allowed with or without approval), for listings and
//! `policy_status`, and the [`Budget`] left in each limit.
//!
//! "Denied outright" means denied whatever the arguments and the time: the action is hidden; or
//! no `tools` entry names it or its method and its risk default (or, with none, `default`) is
//! deny; or a limit that applies to every call of it (its entries' or `all_tools`') has
//! `max: 0`. A rule that depends on the arguments (`require`, `deny_if`) or on the counters
//! never makes an action denied outright.

use super::PolicyEngine;
use super::decision::{ApprovalRule, DEFAULT_DENY, DefaultEffect, Denial, Policy, ToolEntry, risk_index};
use super::document::Effect;
use super::limits::Bound;
use super::limits::Limiter;
use crate::ids::{Risk, RuleId};

/// What the policy does with calls of one action, whatever their arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The action does not exist for the caller.
    Hidden,
    /// Every call is denied, by this rule.
    Denied(Denial),
    /// Calls may be allowed (rules on the arguments and limits still apply).
    Allowed {
        /// Whether a person must approve them.
        approval: ApprovalStanding,
        /// Whether a rule reads the arguments (`require`, `deny_if`): some calls may be denied.
        checked: bool,
    },
}

/// Whether calls of an action need a person's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApprovalStanding {
    /// Never.
    Never,
    /// Some calls, depending on their arguments.
    Sometimes,
    /// Every call that the rules allow.
    Always,
}

impl ApprovalStanding {
    /// The word `policy_status` and listings use.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStanding::Never => "never",
            ApprovalStanding::Sometimes => "sometimes",
            ApprovalStanding::Always => "always",
        }
    }
}

impl PolicyEngine {
    /// Where calls of `action` stand, over every middleware method it may call (`methods`,
    /// at least one). Denied outright only when every method is; approval is the weakest
    /// promise over the methods.
    pub fn standing<'m>(&self, action: &str, methods: impl IntoIterator<Item = &'m str>, risk: Risk) -> Standing {
        let mut combined: Option<Standing> = None;
        for method in methods {
            let one = self.policy.standing(&self.limiter, action, Some(method), risk);
            combined = Some(match (combined, one) {
                (None, one) => one,
                (Some(Standing::Hidden), _) | (_, Standing::Hidden) => Standing::Hidden,
                (Some(Standing::Denied(d)), Standing::Denied(_)) => Standing::Denied(d),
                (Some(Standing::Denied(_)), allowed) | (Some(allowed), Standing::Denied(_)) => allowed,
                (
                    Some(Standing::Allowed { approval: a, checked: ca }),
                    Standing::Allowed { approval: b, checked: cb },
                ) => Standing::Allowed { approval: merge(a, b), checked: ca || cb },
            });
        }
        combined.unwrap_or(Standing::Allowed { approval: ApprovalStanding::Sometimes, checked: true })
    }

    /// Where a raw call of `action` stands, its method unknown: only what holds for any
    /// method (hidden, the action's own entry, `all_tools`) can deny it outright.
    pub fn raw_standing(&self, action: &str) -> Standing {
        self.policy.standing(&self.limiter, action, None, Risk::Destructive)
    }

    /// Whether `x-list-denied` keeps actions denied outright in the flat tool listing.
    pub fn list_denied(&self) -> bool {
        self.list_denied
    }
}

/// Sometimes-or-never over two methods reads as sometimes; always only when both always.
fn merge(a: ApprovalStanding, b: ApprovalStanding) -> ApprovalStanding {
    if a == b { a } else { ApprovalStanding::Sometimes }
}

impl Policy {
    /// One action and method (`None`: a raw call's, unknown), mirroring [`Policy::decide`]'s
    /// precedence without arguments or counters.
    fn standing(&self, limiter: &Limiter, action: &str, method: Option<&str>, risk: Risk) -> Standing {
        if self.hide_all || self.hidden.contains(action) || method.is_some_and(|m| self.hidden.contains(m)) {
            return Standing::Hidden;
        }
        let by_action = self.actions.get(action);
        let by_method = method.and_then(|m| self.methods.get(m));
        let zero = |entry: Option<&ToolEntry>| {
            let entry_limits = entry.map_or(&[][..], |e| &e.limits[..]);
            entry_limits.iter().chain(&self.all_tools_limits).find_map(|&i| limiter.zero_limit(i))
        };
        let entries = [by_action, by_method];
        // A limit of `max: 0` on any entry that applies denies every call.
        if let Some(denial) = entries.iter().flatten().find_map(|e| zero(Some(e))).or_else(|| zero(None)) {
            return Standing::Denied(denial);
        }
        let listed: Vec<&ToolEntry> = entries.iter().flatten().copied().collect();
        if !listed.is_empty() {
            let approval = listed.iter().map(|e| entry_approval(e)).max().unwrap_or(ApprovalStanding::Never);
            let checked = listed.iter().any(|e| !e.require.is_empty() || !e.deny_if.is_empty());
            return Standing::Allowed { approval, checked };
        }
        if method.is_none() {
            // A raw call's method (and so its entry and risk) is unknown: denied outright only
            // when no method entry could allow it and every risk class denies.
            let by_risk = [Risk::Read, Risk::Write, Risk::Destructive].map(|r| self.unlisted(action, r));
            if self.methods.is_empty()
                && let [Standing::Denied(first), Standing::Denied(_), Standing::Denied(_)] = by_risk
            {
                return Standing::Denied(first);
            }
            let approval = if self.uses_approval() { ApprovalStanding::Sometimes } else { ApprovalStanding::Never };
            return Standing::Allowed { approval, checked: true };
        }
        self.unlisted(action, risk)
    }

    /// An action no `tools` entry names: its risk default, else the document's `default`.
    fn unlisted(&self, action: &str, risk: Risk) -> Standing {
        let not_allowed = format!("action `{action}` is not allowed by this policy");
        match (&self.risk_defaults[risk_index(risk)], self.default) {
            (Some((DefaultEffect::Allow, _)), _) | (None, Effect::Allow) => {
                Standing::Allowed { approval: ApprovalStanding::Never, checked: false }
            }
            (Some((DefaultEffect::Approve, _)), _) => {
                Standing::Allowed { approval: ApprovalStanding::Always, checked: false }
            }
            (Some((DefaultEffect::Deny, rule)), _) => Standing::Denied(Denial {
                rule: rule.clone(),
                reason: format!("{not_allowed} (`{}` actions are denied by default)", risk.as_str()),
                retry_after: None,
            }),
            (None, Effect::Deny) => {
                Standing::Denied(Denial { rule: RuleId::new(DEFAULT_DENY), reason: not_allowed, retry_after: None })
            }
        }
    }
}

fn entry_approval(entry: &ToolEntry) -> ApprovalStanding {
    match &entry.approval {
        None => ApprovalStanding::Never,
        Some(ApprovalRule::Always(_)) => ApprovalStanding::Always,
        Some(ApprovalRule::When(_)) => ApprovalStanding::Sometimes,
    }
}

impl Limiter {
    /// The denial of limit `i` when it admits nothing (`max: 0`): it denies every call.
    pub(crate) fn zero_limit(&self, i: usize) -> Option<Denial> {
        let spec = self.spec(i)?;
        let admits_nothing = matches!(
            spec.bound,
            Bound::Window { max: 0, .. } | Bound::Rolling { max: 0, .. } | Bound::Concurrency { max: 0 }
        );
        admits_nothing.then(|| Denial {
            rule: spec.rule.clone(),
            reason: spec.on_deny.clone().unwrap_or_else(|| format!("limit `{}` allows no calls", spec.counter)),
            retry_after: None,
        })
    }
}

#[cfg(test)]
#[path = "standing_tests.rs"]
mod tests;
