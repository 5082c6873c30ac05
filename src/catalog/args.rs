//! Checking the arguments an agent passes against an action's declared arguments: every problem
//! is reported at once, each naming the argument.

use std::fmt;

use serde_json::{Map, Value};

use super::model::{ActionDef, ArgDef, ArgType};
use crate::ids::ActionName;
use crate::schema::exact;

/// Why the arguments of a call are refused; one entry per problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid arguments for `{action}`: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ArgsError {
    /// The action called.
    pub action: ActionName,
    /// Each problem found, in argument order (unknown keys first).
    pub problems: Vec<ArgProblem>,
}

/// One problem with one argument.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgProblem {
    /// The action has no such argument.
    Unknown {
        /// The key given.
        name: String,
        /// Every argument the action accepts.
        accepted: Vec<String>,
    },
    /// A required argument is absent.
    Missing {
        /// The argument.
        name: String,
    },
    /// The value has the wrong JSON type.
    WrongType {
        /// The argument.
        name: String,
        /// The declared type.
        expected: ArgType,
        /// A short rendering of what was given, e.g. `string "3"`.
        got: String,
    },
    /// The value is not one of the allowed ones.
    NotAllowed {
        /// The argument.
        name: String,
        /// The allowed values.
        allowed: Vec<Value>,
        /// What was given.
        got: Value,
    },
    /// A number, given or nested, that TrueNAS could only receive rounded.
    Inexact {
        /// The argument, with the place inside it (`attributes.size`).
        name: String,
        /// The number.
        got: serde_json::Number,
    },
    /// The number is outside the declared bounds.
    OutOfRange {
        /// The argument.
        name: String,
        /// `at least N` or `at most N`.
        bound: String,
        /// What was given.
        got: Value,
    },
    /// An argument and its other name (`same_as`) given with different values.
    Differs {
        /// The other name, as given.
        name: String,
        /// The argument it stands for.
        of: String,
    },
    /// A path, dataset or snapshot name that is not canonical.
    Malformed {
        /// The argument.
        name: String,
        /// What it names.
        kind: super::value_kind::ValueKind,
        /// The rule broken.
        why: String,
    },
}

impl ArgProblem {
    /// The argument concerned (a name, never its value).
    pub fn name(&self) -> &str {
        match self {
            ArgProblem::Unknown { name, .. }
            | ArgProblem::Missing { name }
            | ArgProblem::WrongType { name, .. }
            | ArgProblem::NotAllowed { name, .. }
            | ArgProblem::OutOfRange { name, .. }
            | ArgProblem::Inexact { name, .. }
            | ArgProblem::Malformed { name, .. }
            | ArgProblem::Differs { name, .. } => name,
        }
    }
}

impl fmt::Display for ArgProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgProblem::Unknown { name, accepted } if accepted.is_empty() => {
                write!(f, "unknown argument `{name}`; this action takes no arguments")
            }
            ArgProblem::Unknown { name, accepted } => {
                let list: Vec<String> = accepted.iter().map(|a| format!("`{a}`")).collect();
                write!(f, "unknown argument `{name}`; accepted: {}", list.join(", "))
            }
            ArgProblem::Missing { name } => write!(f, "missing required argument `{name}`"),
            ArgProblem::WrongType { name, expected, got } => {
                write!(f, "`{name}` must be {}, got {got}", expected.with_article())
            }
            ArgProblem::NotAllowed { name, allowed, got } => {
                let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
                write!(f, "`{name}` must be one of {}, got {}", list.join(", "), short(got))
            }
            ArgProblem::OutOfRange { name, bound, got } => write!(f, "`{name}` must be {bound}, got {got}"),
            ArgProblem::Inexact { name, got } => write!(f, "`{name}` {}, got number {got}", exact::INEXACT_REASON),
            ArgProblem::Differs { name, of } => write!(f, "`{name}` must equal `{of}` when both are given"),
            ArgProblem::Malformed { name, kind: super::value_kind::ValueKind::PathsWithin, why } => {
                write!(f, "`{name}` holds a path that is not canonical: it {why}")
            }
            ArgProblem::Malformed { name, kind, why } => {
                write!(f, "`{name}` is not a canonical {}: it {why}", kind.noun())
            }
        }
    }
}

/// A value as messages show it: scalars in JSON, long strings cut, containers by kind only.
fn short(value: &Value) -> String {
    const MAX: usize = 60;
    match value {
        Value::String(s) if s.chars().count() > MAX => {
            let cut: String = s.chars().take(MAX).collect();
            format!("{}...", Value::String(cut))
        }
        Value::Object(_) => "an object".into(),
        Value::Array(_) => "an array".into(),
        other => other.to_string(),
    }
}

/// The JSON type of a value with the value itself, e.g. `string "3"`.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => format!("boolean {value}"),
        Value::Number(_) => format!("number {value}"),
        Value::String(_) => format!("string {}", short(value)),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Checks one value against one argument declaration; pushes what is wrong.
pub(crate) fn check_value(def: &ArgDef, value: &Value, problems: &mut Vec<ArgProblem>) {
    let name = def.name.clone();
    // Before the type: `9223372036854775808` is an integer JSON, just not one TrueNAS can take.
    if let Some((name, got)) = exact::find_inexact(value, &def.name) {
        problems.push(ArgProblem::Inexact { name, got });
        return;
    }
    if !def.kind.accepts(value) {
        problems.push(ArgProblem::WrongType { name, expected: def.kind, got: describe(value) });
        return;
    }
    if let Some(allowed) = &def.enum_values
        && !allowed.iter().any(|a| same_value(a, value))
    {
        problems.push(ArgProblem::NotAllowed { name, allowed: allowed.clone(), got: value.clone() });
        return;
    }
    if let Some(kind) = def.value_kind
        && let Err(why) = kind.check_value(value)
    {
        problems.push(ArgProblem::Malformed { name, kind, why });
        return;
    }
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = &def.minimum
        && min.as_f64().is_some_and(|m| n < m)
    {
        problems.push(ArgProblem::OutOfRange { name, bound: format!("at least {min}"), got: value.clone() });
    } else if let Some(max) = &def.maximum
        && max.as_f64().is_some_and(|m| n > m)
    {
        problems.push(ArgProblem::OutOfRange { name, bound: format!("at most {max}"), got: value.clone() });
    }
}

/// JSON equality where `3` and `3.0` are the same number.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Arguments that passed [`ActionDef::validate_args`]. Only the validator makes one, and the
/// mapping ([`ActionDef::resolve_for`], [`ActionDef::resolve`], [`ActionDef::build_params`])
/// takes one instead of validating again: a call's arguments are validated once.
#[derive(Debug, Clone, Copy)]
pub struct ValidArgs<'a> {
    action: &'a ActionDef,
    args: &'a Map<String, Value>,
}

impl<'a> ValidArgs<'a> {
    /// The arguments, as given.
    pub fn as_map(&self) -> &'a Map<String, Value> {
        self.args
    }

    /// The arguments for `action`'s mapping. Arguments validated for another action are
    /// validated again for this one (fail closed): the mapping never sees unchecked input.
    pub(crate) fn for_action(&self, action: &ActionDef) -> Result<&'a Map<String, Value>, ArgsError> {
        if !std::ptr::eq(self.action, action) {
            action.validate_args(self.args)?;
        }
        Ok(self.args)
    }
}

impl ActionDef {
    /// Checks the arguments of a call: unknown keys, missing required ones, types, enums and
    /// bounds, all at once. `confirm: "false"` is a type error, not a refusal. The arguments
    /// come back as [`ValidArgs`], what the mapping takes.
    pub fn validate_args<'a>(&'a self, args: &'a Map<String, Value>) -> Result<ValidArgs<'a>, ArgsError> {
        let mut problems = Vec::new();
        let accepted = || self.args.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        for key in args.keys() {
            if self.arg(key).is_none() {
                problems.push(ArgProblem::Unknown { name: key.clone(), accepted: accepted() });
            }
        }
        for def in &self.args {
            // Given under its other name (`same_as`), or supplied by the saved object the
            // argument named by `required_unless` selects.
            let aliased = self.args.iter().any(|a| a.same_as.as_ref() == Some(&def.name) && args.contains_key(&a.name));
            let excused = def.required_unless.as_ref().is_some_and(|other| args.contains_key(other));
            match args.get(&def.name) {
                Some(value) => check_value(def, value, &mut problems),
                None if def.required && !aliased && !excused => {
                    problems.push(ArgProblem::Missing { name: def.name.clone() })
                }
                None => {}
            }
            if let (Some(of), Some(value)) = (&def.same_as, args.get(&def.name))
                && args.get(of).is_some_and(|v| !same_value(v, value))
            {
                problems.push(ArgProblem::Differs { name: def.name.clone(), of: of.clone() });
            }
        }
        if problems.is_empty() {
            Ok(ValidArgs { action: self, args })
        } else {
            Err(ArgsError { action: self.name.clone(), problems })
        }
    }
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
