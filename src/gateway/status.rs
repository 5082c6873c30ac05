//! Where the caller stands: each action's [`Standing`] under the policy (for listings), and
//! the pseudo-action [`POLICY_STATUS`] (`policy_status`, `truenas://policy`), answered from the
//! policy by this server, decided and audited like a read.
//!
//! Hidden tools are absent from every answer: not listed, not named by a budget's rule.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::audit_draft::AuditDraft;
use super::{CallError, Gateway, POLICY_STATUS};
use crate::catalog::ActionDef;
use crate::ids::{ActionName, GrantId, MethodName, Risk};
use crate::policy::{ApprovalStanding, AuditTransport, Decision, Denial, RecordKind, Request, Standing};

impl Gateway {
    /// Where calls of `action` stand under the policy, whatever their arguments.
    pub fn standing(&self, action: &ActionDef) -> Standing {
        if action.is_rest_call() {
            return self.policy().raw_standing(action.name.as_str());
        }
        self.policy().standing(action.name.as_str(), action.methods().map(|m| m.as_str()), action.risk)
    }

    /// Where `policy_status` itself stands (hidden: absent from every listing).
    pub fn policy_status_standing(&self) -> Standing {
        self.policy().standing(POLICY_STATUS, [POLICY_STATUS], Risk::Read)
    }

    /// Whether a flat listing shows `standing`: never hidden, denied outright only when the
    /// policy says `x-list-denied`.
    pub fn listed(&self, standing: &Standing) -> bool {
        match standing {
            Standing::Hidden => false,
            Standing::Denied(_) => self.policy().list_denied(),
            Standing::Allowed { .. } => true,
        }
    }

    /// Answers `policy_status` for `grant`: what it may do among the actions `shown` lets it
    /// see, what needs approval, and what is left of each limit. Decided (a policy may deny or
    /// hide it, and its limits count it) and audited like a read; hidden answers as unknown.
    pub async fn policy_status(
        &self,
        grant: &GrantId,
        transport: AuditTransport,
        kind: RecordKind,
        shown: &(dyn Fn(&ActionDef) -> bool + Sync),
    ) -> Result<Value, CallError> {
        let action = ActionName::new(POLICY_STATUS);
        let method = MethodName::new(POLICY_STATUS);
        let args = Map::new();
        // One snapshot decides and audits this read, as for any call.
        let policy = self.policy();
        let mut audit = AuditDraft::new(self, grant, transport, kind, &action, &args).under(&policy);
        audit.method = Some(method.clone());
        let request = Request { grant, action: &action, method: &method, risk: Risk::Read, args: &args };
        if policy.is_hidden(&action, &method) {
            let rule = crate::ids::RuleId::new(super::HIDDEN_RULE);
            let reason = format!("action `{POLICY_STATUS}` is hidden by this policy");
            let err = CallError::Denied(Denial { rule: rule.clone(), reason: reason.clone(), retry_after: None });
            audit.refused(Some(rule), Some(reason), &err).await;
            return Err(CallError::UnknownAction(POLICY_STATUS.to_string()));
        }
        let permit = match policy.authorize(&request, audit.at) {
            Decision::Allow(permit) => permit,
            Decision::Deny(denial) => {
                let (rule, reason) = (Some(denial.rule.clone()), Some(denial.reason.clone()));
                let err = CallError::Denied(denial);
                audit.refused(rule, reason, &err).await;
                return Err(err);
            }
            // Reading the policy is not put to a person: an approval rule on it denies.
            Decision::NeedsApproval(need) => {
                let reason = "reading the policy cannot wait for an approval".to_owned();
                let denial = Denial { rule: need.rule, reason: reason.clone(), retry_after: None };
                let rule = Some(denial.rule.clone());
                let err = CallError::Denied(denial);
                audit.refused(rule, Some(reason), &err).await;
                return Err(err);
            }
        };
        let rule = permit.rule().cloned();
        // Fail closed, as for any call: counts not saved or the decision not recorded, and it
        // is not answered.
        if let Err(err) = audit.save_and_decide(rule.clone()).await {
            permit.rollback();
            return Err(err);
        }
        // Nothing is sent anywhere: the permit's limit slots stay spent, as for any read.
        drop(permit);
        let status = self.status_document(grant, audit.at, shown);
        audit.finished(rule, Ok(None)).await;
        Ok(status)
    }

    /// The answer: per risk class the usual standing, the actions that differ from it, the
    /// actions that need approval, and the budgets left.
    fn status_document(
        &self,
        grant: &GrantId,
        now: std::time::SystemTime,
        shown: &dyn Fn(&ActionDef) -> bool,
    ) -> Value {
        let actions: Vec<(&ActionDef, Standing)> = self
            .catalog
            .actions()
            .filter(|a| self.is_visible(a) && shown(a))
            .map(|a| (a, self.standing(a)))
            .filter(|(_, s)| *s != Standing::Hidden)
            .collect();
        // The usual word of each risk class: the most common among its actions.
        let mut tally: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for (a, s) in &actions {
            *tally.entry((a.risk.as_str(), word(s))).or_default() += 1;
        }
        let mut usual: BTreeMap<&str, (&str, usize)> = BTreeMap::new();
        for ((risk, w), n) in tally {
            let best = usual.entry(risk).or_insert((w, 0));
            if n > best.1 {
                *best = (w, n);
            }
        }
        let mut exceptions = Vec::new();
        let mut approval = Vec::new();
        let mut approval_sometimes = Vec::new();
        for (a, s) in &actions {
            if usual.get(a.risk.as_str()).is_some_and(|(w, _)| *w != word(s)) {
                let mut item = json!({"action": a.name.as_str(), "standing": word(s)});
                if let Standing::Denied(d) = s {
                    item["rule"] = json!(d.rule.as_str());
                    item["reason"] = json!(d.reason);
                }
                exceptions.push(item);
            }
            match s {
                Standing::Allowed { approval: ApprovalStanding::Always, .. } => approval.push(a.name.as_str()),
                Standing::Allowed { approval: ApprovalStanding::Sometimes, .. } => {
                    approval_sometimes.push(a.name.as_str())
                }
                _ => {}
            }
        }
        let budgets: Vec<Value> = self
            .policy()
            .budgets(grant, now)
            .into_iter()
            .filter(|b| self.rule_visible(b.rule.as_str()))
            .map(|b| {
                json!({
                    "rule": b.rule.as_str(),
                    "limit": b.describe,
                    "remaining": b.remaining,
                    "resets_in": b.resets_in.map(crate::policy::whole_seconds_up),
                })
            })
            .collect();
        let by_risk: Map<String, Value> = usual.iter().map(|(r, (w, _))| ((*r).to_string(), json!(w))).collect();
        json!({
            "grant": grant.as_str(),
            "policy_sha256": self.policy().sha256(),
            "standings": {
                "allow": "allowed",
                "allow_if": "allowed when the arguments pass the policy's rules",
                "approve": "every call needs a person's approval",
                "approve_if": "some calls need a person's approval, depending on their arguments",
                "deny": "denied whatever the arguments",
            },
            "by_risk": by_risk,
            "exceptions": exceptions,
            "needs_approval": approval,
            "may_need_approval": approval_sometimes,
            "budgets": budgets,
        })
    }

    /// Whether a rule id names nothing hidden: a `tools` entry's rules name their tool.
    fn rule_visible(&self, rule: &str) -> bool {
        let Some(rest) = rule.strip_prefix("/tools/") else { return true };
        let name = rest.split('/').next().unwrap_or_default().replace("~1", "/").replace("~0", "~");
        match self.catalog.action(&name) {
            Some(def) => self.is_visible(def),
            None => !self.policy().is_hidden(&ActionName::new(name.as_str()), &MethodName::new(name.as_str())),
        }
    }
}

/// The one word `policy_status` uses for a standing.
pub(crate) fn word(standing: &Standing) -> &'static str {
    match standing {
        Standing::Hidden | Standing::Denied(_) => "deny",
        Standing::Allowed { approval: ApprovalStanding::Always, .. } => "approve",
        Standing::Allowed { approval: ApprovalStanding::Sometimes, .. } => "approve_if",
        Standing::Allowed { approval: ApprovalStanding::Never, checked: true } => "allow_if",
        Standing::Allowed { approval: ApprovalStanding::Never, checked: false } => "allow",
    }
}
