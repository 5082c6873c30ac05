//! The guardrail engine: a policy document compiled at load, decisions made per call, rate
//! limits, and the audit log.
//!
//! A bad policy stops startup with every problem listed by JSON Pointer ([`PolicyError`]).
//! Deciding is [`PolicyEngine::authorize`]: pure apart from limit counters, and the only way
//! to obtain a [`Permit`], which the NAS client requires for every call. A raw call and its
//! twin actions are decided with [`PolicyEngine::authorize_scoped`], where an [`ArgScope`] says
//! which arguments cannot be told (a predicate reading one denies).
//!
//! Files, by stage:
//! - reading a document: `json` (strict parsing: size, depth, duplicate keys), `document` (the
//!   format's types and schema), `extensions` (the known `x-` keys), `load` (checking, every
//!   problem with its path), `names` (what a policy may name, with "did you mean"), `lint`
//!   (warnings), `compile` (typed document to rules), `summary` (the human summary);
//! - deciding: `decision` (precedence, [`Decision`], [`Denial`]), `predicate` and `pattern`
//!   (argument tests, globs and CIDRs), `when` (maintenance windows), `limits` (what each limit
//!   charges a call in the [`CounterStore`], the loop breaker), `trace` (what `policy explain`
//!   records), `holder` (the policy in force, swapped on reload);
//! - reading a policy without deciding: `standing` (where a grant stands, for listings and
//!   `policy_status`), `explain`, `cases` (`policy test`), `init` (`policy init`);
//! - the audit log: `audit` (one JSON line per call), `audit_chain` (the hash chain and `audit
//!   verify`), `audit_show` (`audit show`'s table), `audit_writer` (the thread that writes it,
//!   in batches, with a deadline per record; the file itself is `audit.rs`'s child `audit_sink`).
//!
//! Tests sit beside the file they test as `x_tests.rs`; deciding's are in `decision_tests/`,
//! one file per feature of the precedence (hide and entries, raw-call scopes, approval,
//! maintenance windows, shadow mode) sharing one set of builders in its `mod.rs`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::catalog::Catalog;
use crate::ids::{ActionName, GrantId, MethodName, Risk, RuleId};

mod audit;
mod audit_chain;
mod audit_show;
mod audit_writer;
mod cases;
mod compile;
mod decision;
mod document;
mod explain;
mod extensions;
mod holder;
mod init;
mod json;
mod limits;
mod lint;
mod load;
mod names;
mod pattern;
mod predicate;
mod standing;
mod summary;
mod trace;
mod when;

pub use audit::{
    AUDIT_WRITE_DEADLINE, ApprovalEvent, ApprovalEventKind, AuditDecision, AuditError, AuditLog, AuditOptions,
    AuditRecord, AuditTransport, AuditWriteError, ErrorSummary, Outcome, Phase, PolicyNotes, PolicyReload, RecordKind,
    ShadowDisagreement, WouldApprove, WouldDeny, is_symbol,
};
pub use audit_chain::{ChainBreak, ChainSummary, verify as verify_audit_chain};
pub use audit_show::{ShowError, ShowFilter, parse_since, show as show_audit};
pub use cases::{CaseOutcome, CasesError, Expect, run_cases};
pub use decision::{ApprovalNeed, Decision, Denial};
pub use explain::{ExplainError, Explanation, explain};
pub use holder::PolicyHolder;
pub use init::{InitError, Preset, starting_policy};
pub use json::MAX_BYTES;
pub use load::{PolicyError, Problem};
pub use standing::{ApprovalStanding, Standing};
pub use trace::Step;

pub use limits::Budget;

use crate::state::counters::CounterStore;
use crate::state::counters_memory::MemoryStore;
use decision::Policy;
pub(crate) use limits::whole_seconds_up;
use limits::{Limiter, Reservation};
use trace::Tracer;

/// The shipped policies, by name.
const BUILTIN: [(&str, &str); 4] = [
    ("approve-destructive", include_str!("../../policy/approve-destructive.json")),
    ("default", include_str!("../../policy/default.json")),
    ("readonly", include_str!("../../policy/readonly.json")),
    ("seed-vm-start", include_str!("../../policy/seed-vm-start.json")),
];

/// The text of a shipped policy, by name.
pub fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, text)| *text)
}

/// A compiled policy and the store of its limit counters. Share it as `Arc<PolicyEngine>`.
/// Counters live in the store, keyed by rule id: an engine loaded from a changed document with
/// the same store keeps counting where the old one stopped.
pub struct PolicyEngine {
    policy: Policy,
    limiter: Limiter,
    summary: String,
    /// What `policy check` warns about; never stops a load.
    warnings: Vec<Problem>,
    /// The `job_status` entry sets `x-any-job: true`.
    any_job: bool,
    /// `x-list-denied: true`: flat listings keep actions denied outright.
    list_denied: bool,
    // SHA-256 (hex) of the policy text as loaded, for audit records.
    sha256: String,
}

/// One call to decide.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Who calls; grant-scoped limits count per grant.
    pub grant: &'a GrantId,
    /// The action called (`vm_start`).
    pub action: &'a ActionName,
    /// The middleware method it resolves to (`vm.start`).
    pub method: &'a MethodName,
    /// The action's risk class, for `x-risk-defaults`.
    pub risk: Risk,
    /// The call's arguments, already validated against the action's schema.
    pub args: &'a Map<String, Value>,
}

/// What a decision may read of a call's arguments. An ordinary call's are all known; a raw
/// call read as one of its twin actions may leave some unknown, and a predicate that reads an
/// unknown argument denies (an absent one would let a `deny_if` pass).
#[derive(Debug, Clone, Copy, Default)]
pub struct ArgScope<'a> {
    /// Arguments whose value cannot be told.
    pub unknown: Option<&'a BTreeSet<String>>,
    /// How the `tools` entry named by the method is checked.
    pub method_rules: MethodRules,
}

/// How the `tools` entry of the call's method is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MethodRules {
    /// Against the call's arguments, as for an ordinary call.
    #[default]
    Check,
    /// Not here: the call is a raw one, and each of its twin actions checks the entry against
    /// the arguments it recovered (its hide and limits still apply here).
    PerTwin,
    /// A raw call whose method no action calls: no argument can be named, so any predicate of
    /// the entry denies.
    Opaque,
    /// A twin action of a raw call: checked against the twin's arguments, but the method's and
    /// `all_tools` limits are not counted again (the raw call itself counted them once).
    Twin,
}

impl PolicyEngine {
    /// Loads a policy document, or lists every problem in it. Every action, method and argument
    /// it names must exist in `catalog` (or the release method tables). Its counters are kept
    /// in memory, for this engine alone.
    pub fn load(text: &str, catalog: &Catalog) -> Result<PolicyEngine, PolicyError> {
        PolicyEngine::load_with_store(text, catalog, Arc::new(MemoryStore::new()))
    }

    /// [`PolicyEngine::load`], keeping counters in `store` (a file, Redis, or a store shared
    /// with the engine this one replaces).
    pub fn load_with_store(
        text: &str,
        catalog: &Catalog,
        store: Arc<dyn CounterStore>,
    ) -> Result<PolicyEngine, PolicyError> {
        let loaded = load::load(text, catalog)?;
        let summary = summary::summarize(&loaded.doc);
        let sha256 = audit::sha256_hex(text.as_bytes());
        let any_job = loaded.doc.tools.get(crate::gateway::JOB_STATUS).is_some_and(|rules| rules.any_job);
        Ok(PolicyEngine {
            policy: loaded.policy,
            limiter: Limiter::new(loaded.limits, loaded.breaker, store),
            summary,
            warnings: loaded.warnings,
            any_job,
            list_denied: loaded.doc.list_denied,
            sha256,
        })
    }

    /// Where the counters live. The gateway awaits its [`CounterStore::persist`] before a call
    /// goes to the NAS.
    pub fn store(&self) -> &Arc<dyn CounterStore> {
        self.limiter.store()
    }

    /// What is left of every limit for `grant` at `now` (for `policy_status`).
    pub fn budgets(&self, grant: &GrantId, now: SystemTime) -> Vec<Budget> {
        self.limiter.budgets(grant, now)
    }

    /// SHA-256 (hex) of the policy text as loaded: which policy decided, in audit records.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// A shipped policy: `default`, `readonly`, `seed-vm-start` or `approve-destructive`.
    /// Its counters are kept in memory; [`builtin_text`] and [`PolicyEngine::load_with_store`]
    /// keep them elsewhere.
    pub fn builtin(name: &str, catalog: &Catalog) -> Option<PolicyEngine> {
        let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
        match PolicyEngine::load(text, catalog) {
            Ok(engine) => Some(engine),
            Err(e) => {
                // INVARIANT: unreachable while the unit test loading every shipped policy passes.
                tracing::error!(policy = name, error = %e, "shipped policy does not load");
                None
            }
        }
    }

    /// Whether the tool is hidden (left out of `tools/list` and denied when called).
    pub fn is_hidden(&self, action: &ActionName, method: &MethodName) -> bool {
        self.policy.is_hidden(action.as_str(), method.as_str())
    }

    /// Decides one call at time `now`. An allowed call has taken its limit slots; give them
    /// back with [`Permit::rollback`] if nothing was sent to the NAS.
    pub fn authorize(&self, req: &Request<'_>, now: SystemTime) -> Decision {
        self.policy.decide(&self.limiter, req, ArgScope::default(), false, now, Tracer::OFF)
    }

    /// Decides one call as [`PolicyEngine::authorize`] does, and says every rule the decision
    /// considered, in precedence order, with why it matched or not (`policy explain`).
    pub fn explain(&self, req: &Request<'_>, now: SystemTime) -> (Decision, Vec<Step>) {
        let steps = std::cell::RefCell::new(Vec::new());
        let decision = self.policy.decide(&self.limiter, req, ArgScope::default(), false, now, Tracer::into(&steps));
        (decision, steps.into_inner())
    }

    /// Decides one call whose arguments are only partly known (a raw call and its twins).
    pub fn authorize_scoped(&self, req: &Request<'_>, scope: ArgScope<'_>, now: SystemTime) -> Decision {
        self.policy.decide(&self.limiter, req, scope, false, now, Tracer::OFF)
    }

    /// Decides a call that a person has approved (the caller holds the approval record bound
    /// to this grant, action, arguments and policy): every other rule and limit is checked
    /// again, as for any call, and only the approval step passes. Never
    /// [`Decision::NeedsApproval`].
    pub fn authorize_approved(&self, req: &Request<'_>, scope: ArgScope<'_>, now: SystemTime) -> Decision {
        self.policy.decide(&self.limiter, req, scope, true, now, Tracer::OFF)
    }

    /// Whether any rule of the policy can ask for approval (then the server keeps an approval
    /// store and a control socket).
    pub fn uses_approval(&self) -> bool {
        self.policy.uses_approval()
    }

    /// What `truenas-mcp policy check` warns about: rules that can never match or always deny,
    /// entries that never apply, and actions an entry allows that the defaults would deny.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Whether `job_status` may read jobs this server did not start: true only when the
    /// document's `tools.job_status` entry sets `x-any-job: true`.
    pub fn any_job(&self) -> bool {
        self.any_job
    }

    /// A human summary of the policy, for `truenas-mcp policy check FILE`.
    pub fn summary(&self) -> String {
        self.summary.clone()
    }

    /// The JSON Schema of the policy document (draft 2020-12).
    pub fn json_schema() -> Value {
        schemars::schema_for!(document::PolicyDocument).to_value()
    }
}

impl fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("policy", &self.policy)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

/// Proof that the policy allowed one call. Only the engine makes one; the NAS client consumes
/// it. Dropping it keeps the counts it reserved and ends its in-flight leases (the call is
/// over); [`Permit::rollback`] refunds everything.
#[derive(Debug)]
pub struct Permit {
    action: ActionName,
    method: MethodName,
    /// The tools entry (or risk default) that allowed the call; `None` for `default: allow`.
    rule: Option<RuleId>,
    reservation: Option<Reservation>,
    /// Shadow mode: the advisory rule that would have denied the call, and why.
    would_deny: Option<Denial>,
    /// Shadow mode: the advisory rule that would have put the call to a person.
    would_approve: Option<RuleId>,
}

impl Permit {
    /// The action the permit is for.
    pub fn action(&self) -> &ActionName {
        &self.action
    }

    /// The middleware method the permit is for.
    pub fn method(&self) -> &MethodName {
        &self.method
    }

    /// The rule that allowed the call, if one did.
    pub fn rule(&self) -> Option<&RuleId> {
        self.rule.as_ref()
    }

    /// Shadow mode: the advisory rule that would have denied this call, if one would have.
    pub fn would_deny(&self) -> Option<&Denial> {
        self.would_deny.as_ref()
    }

    /// Shadow mode: the advisory rule that would have asked a person first, if one would have.
    pub fn would_approve(&self) -> Option<&RuleId> {
        self.would_approve.as_ref()
    }

    /// Refunds what the call reserved (counts, rolling entries, leases). Call it only when
    /// nothing was sent to the NAS.
    pub fn rollback(self) {
        if let Some(reservation) = self.reservation {
            reservation.rollback();
        }
    }

    /// A permit with no rule and no reservation, for other modules' unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(action: ActionName, method: MethodName) -> Permit {
        Permit { action, method, rule: None, reservation: None, would_deny: None, would_approve: None }
    }
}

/// The embedded catalog, built once for the policy unit tests.
#[cfg(test)]
pub(crate) fn test_catalog() -> &'static Catalog {
    static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
    CATALOG.get_or_init(|| Catalog::builtin().unwrap_or_else(|e| panic!("{e}")))
}

/// A policy engine loaded from `doc` against [`test_catalog`]; panics when it does not load.
#[cfg(test)]
pub(crate) fn test_engine(doc: Value) -> PolicyEngine {
    PolicyEngine::load(&doc.to_string(), test_catalog()).unwrap_or_else(|e| panic!("{e}"))
}

/// The problems loading `doc` reports, as `pointer: message` lines (none when it loads).
#[cfg(test)]
pub(crate) fn load_problems(doc: Value) -> Vec<String> {
    match PolicyEngine::load(&doc.to_string(), test_catalog()) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems().iter().map(ToString::to_string).collect(),
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
