//! Reading a raw call as the action it stands for: the inverse of `template::build`. Given the
//! positional params a raw `truenas_api_call` resolved to, recover the arguments a twin action
//! (one that calls the same method) would have been called with, so that the twin's rules judge
//! what is really sent.
//!
//! The rules, chosen to fail closed:
//! - a literal of the template must be present with the same value, else the params are not
//!   this action's (the twin does not apply); so must the shape (object, array, positions),
//!   and an object or a `$rest` may not carry keys the template has no place for;
//! - an absent position or key leaves its arguments absent, as if the agent had left them out
//!   (declared defaults then apply, as they do for the action);
//! - where the value of an argument cannot be told unambiguously (a `$merge`, an array that
//!   lost elements, one argument at two places with two values), it is *unknown*: unlike an
//!   absent one, a policy predicate that reads it denies.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::args::{ArgProblem, ArgsError, check_value};
use super::model::{ActionDef, CONFIRM};
use super::template::Template;
use crate::schema::Release;

/// The arguments a raw call stands for, as one action reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovered {
    /// Arguments whose value the params determine, with declared defaults for absent ones.
    pub known: Map<String, Value>,
    /// Arguments the params may carry but whose value cannot be told.
    pub unknown: BTreeSet<String>,
}

/// The params were not built by this action's template.
struct NoMatch;

impl ActionDef {
    /// The arguments `params` stand for when read as a call of this action on `release`, or
    /// `None` when this action could not have sent them (see the module rules).
    pub fn recover_args(&self, release: Release, params: &Value) -> Option<Recovered> {
        let (positions, rest) = self.template_for(release);
        let Value::Array(values) = params else { return None };
        if values.len() > positions.len() {
            return None;
        }
        let mut walk = Walk { action: self, rest, out: Recovered::default() };
        for (i, t) in positions.iter().enumerate() {
            walk.take(t, values.get(i)).ok()?;
        }
        let mut out = walk.out;
        for def in &self.args {
            if let Some(default) = &def.default
                && !out.known.contains_key(&def.name)
                && !out.unknown.contains(&def.name)
            {
                out.known.insert(def.name.clone(), default.clone());
            }
        }
        Some(out)
    }

    /// Every argument unknown: how a raw call is read by an action it matched no template of.
    pub fn all_unknown(&self) -> Recovered {
        let unknown = self.args.iter().map(|a| a.name.clone()).filter(|n| n != CONFIRM).collect();
        Recovered { known: Map::new(), unknown }
    }

    /// Checks recovered arguments as [`ActionDef::validate_args`] checks an agent's: types,
    /// enums, bounds and path kinds of the known ones; a required one must be known or unknown
    /// (`confirm` excepted: the raw call has its own).
    pub fn validate_recovered(&self, recovered: &Recovered) -> Result<(), ArgsError> {
        let mut problems = Vec::new();
        for def in &self.args {
            match recovered.known.get(&def.name) {
                Some(value) => check_value(def, value, &mut problems),
                None if def.required && def.name != CONFIRM && !recovered.unknown.contains(&def.name) => {
                    problems.push(ArgProblem::Missing { name: def.name.clone() })
                }
                None => {}
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ArgsError { action: self.name.clone(), problems }) }
    }
}

struct Walk<'a> {
    action: &'a ActionDef,
    rest: &'a [bool],
    out: Recovered,
}

impl Walk<'_> {
    /// Matches one template node against the value at its place (`None`: nothing there).
    fn take(&mut self, t: &Template, value: Option<&Value>) -> Result<(), NoMatch> {
        match (t, value) {
            (Template::Literal(l), Some(v)) if same(l, v) => Ok(()),
            (Template::Literal(_), _) => Err(NoMatch),
            (Template::Arg(i), Some(v)) => {
                self.record(*i, v);
                Ok(())
            }
            (Template::Arg(_), None) | (Template::Rest, None) => Ok(()),
            (Template::Rest, Some(Value::Object(fields))) => {
                for (key, v) in fields {
                    let i = self.rest_index(key).ok_or(NoMatch)?;
                    self.record(i, v);
                }
                Ok(())
            }
            (Template::Object(fields), Some(Value::Object(given))) => {
                if given.keys().any(|k| !fields.iter().any(|(f, _)| f == k)) {
                    return Err(NoMatch);
                }
                fields.iter().try_for_each(|(key, t)| self.take(t, given.get(key)))
            }
            (Template::Object(fields), None) => fields.iter().try_for_each(|(_, t)| self.take(t, None)),
            (Template::Array(items), Some(Value::Array(given))) if given.len() == items.len() => {
                items.iter().zip(given).try_for_each(|(t, v)| self.take(t, Some(v)))
            }
            // Elements were dropped: which ones cannot be told.
            (Template::Array(items), Some(Value::Array(given))) if given.len() < items.len() => {
                items.iter().for_each(|t| self.unknown_in(t));
                Ok(())
            }
            (Template::Array(items), None) => items.iter().try_for_each(|t| self.take(t, None)),
            // Which operand a merged key came from cannot be told.
            (Template::Merge(ops), Some(Value::Object(_))) => {
                ops.iter().for_each(|t| self.unknown_in(t));
                Ok(())
            }
            (Template::Merge(ops), None) => ops.iter().try_for_each(|t| self.take(t, None)),
            (Template::Rest | Template::Object(_) | Template::Array(_) | Template::Merge(_), Some(_)) => Err(NoMatch),
        }
    }

    fn record(&mut self, i: usize, value: &Value) {
        let Some(def) = self.action.args.get(i) else { return };
        if self.out.unknown.contains(&def.name) {
            return;
        }
        match self.out.known.get(&def.name) {
            Some(seen) if !same(seen, value) => {
                self.out.known.remove(&def.name);
                self.out.unknown.insert(def.name.clone());
            }
            Some(_) => {}
            None => {
                self.out.known.insert(def.name.clone(), value.clone());
            }
        }
    }

    fn rest_index(&self, key: &str) -> Option<usize> {
        let i = self.action.args.iter().position(|a| a.name == key)?;
        self.rest.get(i).copied().unwrap_or(false).then_some(i)
    }

    /// Marks every argument a node references as unknown.
    fn unknown_in(&mut self, t: &Template) {
        let marked: Vec<usize> = match t {
            Template::Literal(_) => Vec::new(),
            Template::Arg(i) => vec![*i],
            Template::Rest => (0..self.rest.len()).filter(|i| self.rest.get(*i).copied().unwrap_or(false)).collect(),
            Template::Merge(items) | Template::Array(items) => {
                items.iter().for_each(|t| self.unknown_in(t));
                Vec::new()
            }
            Template::Object(fields) => {
                fields.iter().for_each(|(_, t)| self.unknown_in(t));
                Vec::new()
            }
        };
        for i in marked {
            if let Some(def) = self.action.args.get(i) {
                self.out.known.remove(&def.name);
                self.out.unknown.insert(def.name.clone());
            }
        }
    }
}

/// JSON equality where `3` and `3.0` are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| same(x, y)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
#[path = "recover_tests.rs"]
mod tests;
