//! What a raw call stands for: the twin actions of its method (the actions that call that
//! method on the connected release), the arguments each would have been called with, and the
//! risk and confirm gate the raw call inherits from them.
//!
//! A method that no action calls is classed by TrueNAS's own roles: a read when every role that
//! grants it is a read role (`*_READ`, `READONLY_ADMIN`), else destructive (fail closed: a
//! method open to every session, with no roles at all, is destructive too).

use serde_json::Value;

use super::Catalog;
use super::args::ArgsError;
use super::model::{ActionDef, CONFIRM};
use super::recover::Recovered;
use crate::ids::{MethodName, Risk};
use crate::schema::{MethodTable, Release};

/// A raw call read through its twins.
#[derive(Debug)]
pub struct RawReading<'a> {
    /// Each twin that applies, with the arguments the raw call stands for. When no twin's
    /// template matches the params, every twin applies with every argument unknown.
    pub twins: Vec<(&'a ActionDef, Recovered)>,
    /// The risk the policy sees: the highest of the twins', or the roles' class.
    pub risk: Risk,
    /// The refusal text when the raw call needs `confirm: true`: a twin's own, or ours.
    pub gate: Option<String>,
}

impl RawReading<'_> {
    /// The first twin whose recovered arguments do not validate: the raw call is then refused.
    pub fn invalid(&self) -> Option<ArgsError> {
        self.twins.iter().find_map(|(twin, args)| twin.validate_recovered(args).err())
    }

    /// The refusal when the raw call is gated and its `confirm` argument is not exactly `true`.
    pub fn refusal(&self, args: &serde_json::Map<String, Value>) -> Option<String> {
        self.gate.clone().filter(|_| args.get(CONFIRM) != Some(&Value::Bool(true)))
    }
}

impl Catalog {
    /// Reads a raw call of `method` with `params` on `release` (see the module doc).
    pub fn read_raw(&self, release: Release, method: &MethodName, params: &Value) -> RawReading<'_> {
        let callers: Vec<&ActionDef> =
            self.actions().filter(|a| !a.is_rest_call() && a.method_for(release).is_ok_and(|m| m == method)).collect();
        if callers.is_empty() {
            let risk = roles_class(release, method);
            let gate = (risk != Risk::Read).then(|| {
                format!("`{method}` is not a read and no action covers it: set `confirm` to true to call it raw")
            });
            return RawReading { twins: Vec::new(), risk, gate };
        }
        let mut twins: Vec<(&ActionDef, Recovered)> =
            callers.iter().filter_map(|a| Some((*a, a.recover_args(release, params)?))).collect();
        if twins.is_empty() {
            twins = callers.iter().map(|a| (*a, a.all_unknown())).collect();
        }
        let risk = twins.iter().map(|(a, _)| a.risk).max_by_key(|r| rank(*r)).unwrap_or(Risk::Destructive);
        let gate = twins.iter().find_map(|(a, _)| a.confirm.clone()).or_else(|| {
            (risk == Risk::Destructive)
                .then(|| format!("`{method}` is destructive: set `confirm` to true to call it raw"))
        });
        RawReading { twins, risk, gate }
    }
}

/// Orders risks from least to most.
fn rank(risk: Risk) -> u8 {
    match risk {
        Risk::Read => 0,
        Risk::Write => 1,
        Risk::Destructive => 2,
    }
}

/// A method's class by TrueNAS's roles: read only when it has roles and each is a read role.
fn roles_class(release: Release, method: &MethodName) -> Risk {
    let Some(spec) = MethodTable::get(release).method(method.as_str()) else { return Risk::Destructive };
    let read = |role: &String| role.ends_with("_READ") || role == "READONLY_ADMIN";
    if !spec.roles.is_empty() && spec.roles.iter().all(read) { Risk::Read } else { Risk::Destructive }
}

#[cfg(test)]
#[path = "twins_tests.rs"]
mod tests;
