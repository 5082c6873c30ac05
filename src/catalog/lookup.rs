//! Reads a call makes on the NAS before its own, under the same permit (`[[action.lookup]]`):
//! arguments the agent left out filled from what TrueNAS has saved (read, merge, send the whole
//! definition), the session's user, the active boot environment, a dataset's mount path, and a
//! value checked against the choices TrueNAS offers.
//!
//! ```toml
//! [[action.lookup]]
//! method = "alertservice.query"            # a read, never a job
//! params = [[["id", "=", "$id"]]]          # a params template (`template.rs`)
//! if_given = "id"                          # optional: only when `id` is given
//! fill = { name = "/0/name", type = ["/0/type", "/0/attributes/type"] }
//! missing = "no alert service has this id" # optional: said when the read finds nothing
//! ```
//!
//! `fill` maps arguments to JSON Pointers into the result (the first that resolves wins) and
//! fills only the arguments the agent left out, so the agent's own fields win; with
//! `unless_path = "id"` the read runs only when `id` is not an absolute path (a dataset name)
//! and its fill replaces it. `choices = { train = "" }` refuses a value that is not a key of the
//! object at the pointer. A lookup applies on `releases`, or on every release the action runs
//! on less `except`. The read runs only when it can change something: an argument to fill is
//! absent, a value is to be replaced or checked.
//!
//! The policy decides on the call as the agent made it, before any lookup: a denied call reads
//! nothing. The filled arguments are checked again like the agent's own (types, enums, kinds)
//! before the call is sent.

use serde_json::{Map, Value};

use super::diagnostics::{Findings, Severity};
use super::model::ActionDef;
use super::parse::{RawAction, RawLookup};
use super::template::{self, Context, MappingError, Template};
use crate::ids::MethodName;
use crate::schema::{MethodTable, Release};

/// A checked `[[action.lookup]]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lookup {
    /// Where it applies; empty for every release the action runs on less `except`.
    releases: Vec<Release>,
    except: Vec<Release>,
    method: MethodName,
    params: Vec<Template>,
    if_given: Option<usize>,
    unless_path: Option<usize>,
    fill: Vec<(usize, Vec<String>)>,
    choices: Vec<(usize, String)>,
    missing: Option<String>,
}

/// One read to make before a call: which lookup, its method and params.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupRead {
    index: usize,
    /// The read's method.
    pub method: MethodName,
    /// Its positional params.
    pub params: Value,
}

/// Checks the lookups of one action; marks the arguments their params use in `used`. `None`
/// after reporting any problem.
pub(crate) fn check(raw: &RawAction, used: &mut [bool], findings: &mut Findings) -> Option<Vec<Lookup>> {
    let mut lookups = Vec::with_capacity(raw.lookups.len());
    let mut ok = true;
    for l in &raw.lookups {
        match check_one(raw, l, used, findings) {
            Some(l) => lookups.push(l),
            None => ok = false,
        }
    }
    ok.then_some(lookups)
}

fn check_one(raw: &RawAction, l: &RawLookup, used: &mut [bool], findings: &mut Findings) -> Option<Lookup> {
    let loc = &l.loc;
    let errors = findings.all.len();
    let mut releases = |names: &[String]| -> Vec<Release> {
        names
            .iter()
            .filter_map(|n| {
                let r = Release::from_name(n);
                if r.is_none() {
                    findings.error(loc, format!("lookup: unknown release `{n}`"));
                }
                r
            })
            .collect()
    };
    let (only, except) = (releases(&l.releases), releases(&l.except));
    if !only.is_empty() && !except.is_empty() {
        findings.error(loc, "lookup: give `releases` or `except`, not both");
    }
    let index = |name: &str, findings: &mut Findings| {
        let i = raw.args.iter().position(|a| a.name == name);
        if i.is_none() {
            findings.error(loc, format!("lookup: `{name}` is not an argument of the action"));
        }
        i
    };
    let if_given = l.if_given.as_deref().and_then(|n| index(n, findings));
    let unless_path = l.unless_path.as_deref().and_then(|n| index(n, findings));
    let mut fill = Vec::new();
    for (arg, pointers) in &l.fill {
        if pointers.iter().any(|p| !p.is_empty() && !p.starts_with('/')) {
            findings.error(loc, format!("lookup: `fill.{arg}` takes JSON Pointers (`/0/name`)"));
        }
        if let Some(i) = index(arg, findings) {
            fill.push((i, pointers.clone()));
        }
    }
    let mut choices = Vec::new();
    for (arg, pointer) in &l.choices {
        if let Some(i) = index(arg, findings) {
            choices.push((i, pointer.clone()));
        }
    }
    if fill.is_empty() && choices.is_empty() {
        findings.error(loc, "lookup: give `fill` or `choices`: what the read is for");
    }
    let mut problems = Vec::new();
    let params = match &l.params {
        toml::Value::Array(items) => items.iter().map(|v| template::parse(v, &raw.args, used, &mut problems)).collect(),
        _ => {
            problems.push("`params` must be an array: the positional params of the method".into());
            Vec::new()
        }
    };
    for p in problems {
        findings.error(loc, format!("lookup: {p}"));
    }
    let lookup = Lookup {
        releases: only,
        except,
        method: MethodName::new(&l.method),
        params,
        if_given,
        unless_path,
        fill,
        choices,
        missing: l.missing.clone(),
    };
    let runs_on: Vec<Release> = Release::KNOWN.into_iter().filter(|r| lookup.applies(raw, *r)).collect();
    for release in runs_on {
        match MethodTable::get(release).is_job(&l.method) {
            None => findings.error(loc, format!("lookup: method `{}` does not exist on TrueNAS {release}", l.method)),
            Some(true) => findings.error(loc, format!("lookup: method `{}` is a job, not a read", l.method)),
            Some(false) => {}
        }
    }
    findings.all[errors..].iter().all(|d| d.severity != Severity::Error).then_some(lookup)
}

impl Lookup {
    /// Whether the lookup applies on `release` (for an action that runs there).
    fn applies(&self, raw: &RawAction, release: Release) -> bool {
        let routed_away =
            raw.routes.iter().any(|r| r.unavailable.is_some() && r.releases.iter().any(|n| n == release.name()));
        if !self.releases.is_empty() {
            return self.releases.contains(&release);
        }
        !routed_away && !self.except.contains(&release)
    }
}

impl ActionDef {
    /// Whether some lookup of the action fills argument `name`.
    #[cfg(test)]
    pub(crate) fn filled_by_lookup(&self, name: &str) -> bool {
        self.lookups.iter().any(|l| l.fill.iter().any(|(i, _)| self.args.get(*i).is_some_and(|a| a.name == name)))
    }

    /// Whether calls of the action may read before they are sent.
    pub fn has_lookups(&self) -> bool {
        !self.lookups.is_empty()
    }

    /// The reads to make on `release` before a call with (validated, effective) `args`.
    pub fn lookups_for(&self, release: Release, args: &Map<String, Value>) -> Result<Vec<LookupRead>, MappingError> {
        let unavailable = self.routes.iter().any(|r| r.releases.contains(&release) && r.is_unavailable());
        let mut reads = Vec::new();
        for (index, l) in self.lookups.iter().enumerate() {
            let applies = if l.releases.is_empty() {
                !unavailable && !l.except.contains(&release)
            } else {
                l.releases.contains(&release)
            };
            if !applies || !l.triggered(self, args) {
                continue;
            }
            let ctx = Context { action: &self.name, defs: &self.args, args, rest: &[] };
            let params = template::build(&l.params, &ctx)?;
            reads.push(LookupRead { index, method: l.method.clone(), params });
        }
        Ok(reads)
    }

    /// Applies the result of `read` to `args`: fills (or replaces) arguments and checks
    /// choices. Refused when the read found nothing or lacks a value a required argument needs.
    pub fn apply_lookup(
        &self,
        read: &LookupRead,
        result: &Value,
        args: &mut Map<String, Value>,
    ) -> Result<(), MappingError> {
        let Some(l) = self.lookups.get(read.index) else { return Ok(()) };
        let empty = match result {
            Value::Null => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        if empty {
            return Err(MappingError::LookupEmpty {
                action: self.name.clone(),
                method: l.method.clone(),
                note: l.missing.clone(),
            });
        }
        for (i, pointers) in &l.fill {
            let Some(def) = self.args.get(*i) else { continue };
            if l.unless_path != Some(*i) && args.contains_key(&def.name) {
                continue;
            }
            match pointers.iter().find_map(|p| result.pointer(p).filter(|v| !v.is_null())) {
                Some(v) => {
                    args.insert(def.name.clone(), v.clone());
                }
                None if def.required || def.required_unless.is_some() || l.unless_path == Some(*i) => {
                    return Err(MappingError::LookupLacks {
                        action: self.name.clone(),
                        method: l.method.clone(),
                        arg: def.name.clone(),
                    });
                }
                None => {}
            }
        }
        for (i, pointer) in &l.choices {
            let Some(def) = self.args.get(*i) else { continue };
            let Some(given) = args.get(&def.name) else { continue };
            let keys: Vec<String> = match result.pointer(pointer) {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                _ => Vec::new(),
            };
            if !given.as_str().is_some_and(|g| keys.iter().any(|k| k == g)) {
                return Err(MappingError::NotAChoice {
                    arg: def.name.clone(),
                    method: l.method.clone(),
                    got: given.to_string(),
                    choices: keys,
                });
            }
        }
        Ok(())
    }
}

impl Lookup {
    /// Whether the read can change anything for a call with `args`.
    fn triggered(&self, action: &ActionDef, args: &Map<String, Value>) -> bool {
        let name = |i: usize| action.args.get(i).map(|a| a.name.as_str()).unwrap_or_default();
        if let Some(g) = self.if_given
            && !args.contains_key(name(g))
        {
            return false;
        }
        if let Some(p) = self.unless_path {
            return args.get(name(p)).and_then(Value::as_str).is_some_and(|v| !v.starts_with('/'));
        }
        !self.choices.is_empty() || self.fill.iter().any(|(i, _)| !args.contains_key(name(*i)))
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
