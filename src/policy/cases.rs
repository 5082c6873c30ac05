//! `truenas-mcp policy test FILE CASES`: calls and the decisions a policy must give them,
//! decided in-process (fresh memory counters per case, a fixed clock when the file sets `at`),
//! never touching a NAS.
//!
//! A case file is TOML (`[[cases]]` tables) or JSON (`{"cases": [...]}`), with an optional
//! top-level `at` (RFC 3339) that a case's own `at` overrides. A case is
//! `{name, action, args?, grant?, repeat?, at?, expect = "allow"|"deny"|"approve", rule?}`:
//! the call is decided `repeat` times (default 1; allowed calls keep their limit slots, as sent
//! calls do) and the last decision must match `expect`, and `rule` when given. Arguments are
//! checked against the action's schema first, as the gateway does; arguments it would refuse
//! make the file bad. `truenas_api_call` is decided as that action alone (its twin actions'
//! rules need the gateway).

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Decision, PolicyEngine, PolicyError, Request};
use crate::catalog::Catalog;
use crate::gateway::JOB_STATUS;
use crate::ids::{ActionName, GrantId, MethodName, Risk};

/// The decisions a case may expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// A permit.
    Allow,
    /// A denial.
    Deny,
    /// A need for a person's approval.
    Approve,
}

impl Expect {
    fn as_str(self) -> &'static str {
        match self {
            Expect::Allow => "allow",
            Expect::Deny => "deny",
            Expect::Approve => "approve",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    at: Option<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    action: String,
    #[serde(default)]
    args: Map<String, Value>,
    #[serde(default)]
    grant: Option<String>,
    #[serde(default)]
    repeat: Option<u32>,
    #[serde(default)]
    at: Option<String>,
    expect: Expect,
    #[serde(default)]
    rule: Option<String>,
}

/// Why the cases could not be run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum CasesError {
    /// The policy does not load.
    #[error("the policy does not load:\n{0}")]
    Policy(#[from] PolicyError),
    /// The case file is not one.
    #[error("the case file is not valid {format}: {reason}")]
    Parse {
        /// `TOML` or `JSON`.
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// An `at` that is not an RFC 3339 time.
    #[error("`at` of {whose} is not an RFC 3339 time (`2026-01-03T03:00:00Z`): `{text}`")]
    Time {
        /// `the file` or `case `name``.
        whose: String,
        /// The text given.
        text: String,
    },
    /// One case cannot be decided.
    #[error("case `{name}`: {reason}")]
    Case {
        /// The case's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    /// The case's name.
    pub name: String,
    /// Whether the decision matched.
    pub passed: bool,
    /// What the case expected: `deny (rule /x)`.
    pub expected: String,
    /// What the policy decided: `allow (rule /tools/vm_start)`, with the reason for a denial.
    pub got: String,
}

/// Runs every case of `cases` (TOML unless `json`) against the policy `policy`.
pub fn run_cases(policy: &str, catalog: &Catalog, cases: &str, json: bool) -> Result<Vec<CaseOutcome>, CasesError> {
    // Load once up front so a bad policy is reported as such, not as the first case's problem.
    PolicyEngine::load(policy, catalog)?;
    let file: CaseFile = if json {
        serde_json::from_str(cases).map_err(|e| CasesError::Parse { format: "JSON", reason: e.to_string() })?
    } else {
        toml::from_str(cases)
            .map_err(|e| CasesError::Parse { format: "TOML", reason: e.to_string().trim().to_owned() })?
    };
    if file.cases.is_empty() {
        return Err(CasesError::Parse { format: if json { "JSON" } else { "TOML" }, reason: "no cases".into() });
    }
    let default_at = file.at.as_deref().map(|t| parse_time(t, "the file")).transpose()?;
    file.cases.iter().map(|case| run_one(policy, catalog, case, default_at)).collect()
}

fn run_one(
    policy: &str,
    catalog: &Catalog,
    case: &Case,
    default_at: Option<SystemTime>,
) -> Result<CaseOutcome, CasesError> {
    let bad = |reason: String| CasesError::Case { name: case.name.clone(), reason };
    // A fresh engine per case: counters start at zero, so cases do not depend on each other.
    let engine = PolicyEngine::load(policy, catalog)?;
    let now = match &case.at {
        Some(t) => parse_time(t, &format!("case `{}`", case.name))?,
        None => default_at.unwrap_or_else(SystemTime::now),
    };
    let (action, method, risk, args) = if case.action == JOB_STATUS {
        (ActionName::new(JOB_STATUS), MethodName::new("core.get_jobs"), Risk::Read, Map::new())
    } else {
        let Some(def) = catalog.action(&case.action) else {
            let names = catalog.actions().map(|a| a.name.as_str());
            let hint = super::names::suggest(&case.action, names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(bad(format!("unknown action `{}`{hint}", case.action)));
        };
        def.validate_args(&case.args).map_err(|e| bad(format!("the arguments are refused before any policy: {e}")))?;
        (def.name.clone(), def.method.clone(), def.risk, def.effective_args(&case.args))
    };
    let grant = GrantId::new(case.grant.clone().unwrap_or_else(|| "test".to_owned()));
    let request = Request { grant: &grant, action: &action, method: &method, risk, args: &args };
    let repeat = case.repeat.unwrap_or(1);
    if repeat == 0 {
        return Err(bad("`repeat` must be 1 or more".into()));
    }
    let mut last = None;
    for _ in 0..repeat {
        // An allowed call's permit is dropped here: its limit slots stay taken, as when sent.
        last = Some(engine.authorize(&request, now));
    }
    let (got, got_rule, detail) = match last {
        Some(Decision::Allow(permit)) => (Expect::Allow, permit.rule().map(|r| r.as_str().to_owned()), None),
        Some(Decision::Deny(denial)) => (Expect::Deny, Some(denial.rule.as_str().to_owned()), Some(denial.reason)),
        Some(Decision::NeedsApproval(need)) => (Expect::Approve, Some(need.rule.as_str().to_owned()), None),
        // INVARIANT: `repeat` is at least 1, so one decision was made.
        None => return Err(bad("no decision was made".into())),
    };
    let passed = got == case.expect && case.rule.as_ref().is_none_or(|want| got_rule.as_ref() == Some(want));
    let expected = match &case.rule {
        Some(rule) => format!("{} (rule {rule})", case.expect.as_str()),
        None => case.expect.as_str().to_owned(),
    };
    let mut shown = format!("{} (rule {})", got.as_str(), got_rule.as_deref().unwrap_or("none: `default: allow`"));
    if let Some(reason) = detail {
        shown.push_str(&format!(": {reason}"));
    }
    Ok(CaseOutcome { name: case.name.clone(), passed, expected, got: shown })
}

fn parse_time(text: &str, whose: &str) -> Result<SystemTime, CasesError> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| CasesError::Time { whose: whose.to_owned(), text: text.to_owned() })?;
    Ok(parsed.into())
}

#[cfg(test)]
#[path = "cases_tests.rs"]
mod tests;
