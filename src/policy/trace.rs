//! What a decision considered, step by step: an optional observer that the real
//! [`decide`](super::decision) writes to, so `policy explain` shows the precedence the engine
//! follows rather than a second copy of it. Off (no allocation, no text) for served calls.

use std::cell::RefCell;

use serde::Serialize;

/// One rule the decision looked at, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// The rule: a JSON Pointer into the policy, or `(hidden)`, `(default deny)`, `(default allow)`.
    pub rule: String,
    /// What kind of rule: `hide`, `entry`, `require`, `deny_if`, `x-approval`, `x-risk-defaults`,
    /// `default`, `limit`, `x-mode`.
    pub check: &'static str,
    /// What it gave: `passes`, `denies`, `found`, `absent`, `asks`, `counted`, `shadowed`.
    pub outcome: &'static str,
    /// Why, in words.
    pub why: String,
}

/// Where a decision writes its steps; [`Tracer::OFF`] for served calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tracer<'a>(Option<&'a RefCell<Vec<Step>>>);

impl<'a> Tracer<'a> {
    /// Records nothing.
    pub(crate) const OFF: Tracer<'static> = Tracer(None);

    /// Records into `steps`.
    pub(crate) fn into(steps: &'a RefCell<Vec<Step>>) -> Tracer<'a> {
        Tracer(Some(steps))
    }

    /// Records one step; `step` is only built when tracing.
    pub(crate) fn note(self, step: impl FnOnce() -> Step) {
        if let Some(steps) = self.0 {
            steps.borrow_mut().push(step());
        }
    }
}

impl Tracer<'_> {
    /// Records several steps; they are only built when tracing.
    pub(crate) fn note_all<I: IntoIterator<Item = Step>>(self, steps: impl FnOnce() -> I) {
        if let Some(into) = self.0 {
            into.borrow_mut().extend(steps());
        }
    }
}

/// A step, from its parts.
pub(crate) fn step(
    rule: impl Into<String>,
    check: &'static str,
    outcome: &'static str,
    why: impl Into<String>,
) -> Step {
    Step { rule: rule.into(), check, outcome, why: why.into() }
}
