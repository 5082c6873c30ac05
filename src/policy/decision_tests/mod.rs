//! Tests of deciding one call ([`PolicyEngine::authorize`] and its scoped and approved forms),
//! one file per feature of the precedence, sharing the builders below.
//!
//! - `precedence`: hide, entries by action and by method, `require`/`deny_if`, defaults and
//!   risk defaults, limits, the shipped policies, and the trace `policy explain` prints;
//! - `scope`: partly known arguments (a raw call read as its twin actions);
//! - `approval`: `x-approval` and `approve` risk defaults;
//! - `window`: `x-when` maintenance windows, with a fixed clock;
//! - `shadow`: `x-mode: shadow`, document and entry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::ids::{ActionName, GrantId, MethodName, Risk};
use crate::policy::test_engine as engine;
use crate::policy::{ApprovalNeed, ArgScope, Decision, Denial, Permit, PolicyEngine, Request, test_catalog};

mod approval;
mod precedence;
mod scope;
mod shadow;
mod window;

/// 2024-01-01T00:00:00Z.
const T0: u64 = 1_704_067_200;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A call to decide: grant `g`, risk `write` and no arguments unless the builder says so.
#[derive(Clone)]
struct Call {
    grant: GrantId,
    action: ActionName,
    method: MethodName,
    risk: Risk,
    args: Map<String, Value>,
}

fn call(action: &str, method: &str) -> Call {
    Call {
        grant: GrantId::new("g"),
        action: ActionName::new(action),
        method: MethodName::new(method),
        risk: Risk::Write,
        args: Map::new(),
    }
}

impl Call {
    fn args(mut self, args: Value) -> Call {
        self.args = args.as_object().unwrap_or_else(|| panic!("arguments must be an object: {args}")).clone();
        self
    }

    fn risk(mut self, risk: Risk) -> Call {
        self.risk = risk;
        self
    }

    fn grant(mut self, grant: &str) -> Call {
        self.grant = GrantId::new(grant);
        self
    }

    fn request(&self) -> Request<'_> {
        Request { grant: &self.grant, action: &self.action, method: &self.method, risk: self.risk, args: &self.args }
    }

    /// [`PolicyEngine::authorize`].
    fn decide(&self, engine: &PolicyEngine, now: SystemTime) -> Decision {
        engine.authorize(&self.request(), now)
    }

    /// [`PolicyEngine::authorize_scoped`].
    fn decide_scoped(&self, engine: &PolicyEngine, scope: ArgScope<'_>, now: SystemTime) -> Decision {
        engine.authorize_scoped(&self.request(), scope, now)
    }

    /// [`PolicyEngine::authorize_approved`], with every argument known.
    fn decide_approved(&self, engine: &PolicyEngine, now: SystemTime) -> Decision {
        engine.authorize_approved(&self.request(), ArgScope::default(), now)
    }
}

fn permit(d: Decision) -> Permit {
    match d {
        Decision::Allow(p) => p,
        Decision::Deny(d) => panic!("expected allow, got {d}"),
        Decision::NeedsApproval(n) => panic!("expected allow, got a need for approval by {}", n.rule),
    }
}

fn denial(d: Decision) -> Denial {
    match d {
        Decision::Deny(d) => d,
        Decision::Allow(p) => panic!("expected deny, got a permit for {}", p.action()),
        Decision::NeedsApproval(n) => panic!("expected deny, got a need for approval by {}", n.rule),
    }
}

fn need(d: Decision) -> ApprovalNeed {
    match d {
        Decision::NeedsApproval(n) => n,
        Decision::Allow(p) => panic!("expected a need for approval, got a permit for {}", p.action()),
        Decision::Deny(d) => panic!("expected a need for approval, got {d}"),
    }
}
