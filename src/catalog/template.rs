//! Positional params templates: how an action's arguments become the params array of its
//! middleware call.
//!
//! A template is a JSON-like TOML value:
//! - `"$arg"` is the argument's value, or its declared default; with neither it is *omitted*;
//! - in an object, a key whose value is omitted is dropped;
//! - in an array, an element that is omitted, or is an array that lost an element that way, is
//!   dropped (`[["vm", "=", "$vm_id"]]` becomes `[]` without `vm_id`);
//! - at the top level, trailing omitted positions are dropped (a hole before a present position
//!   is refused when the catalog loads);
//! - `"$rest"` is an object of every argument not referenced elsewhere (never `confirm`);
//! - `{ "$merge" = [a, b, ...] }` merges objects, later keys winning; an empty result is omitted;
//! - `"$$x"` is the literal string `$x`; every other value is a literal.

use serde_json::{Map, Value};

use super::args::{ArgsError, ValidArgs};
use super::model::{ActionDef, ArgDef, ArgType, CONFIRM, as_integer};
use crate::ids::{ActionName, MethodName};

/// A parsed template node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    Literal(Value),
    /// Index into the action's arguments.
    Arg(usize),
    Rest,
    Merge(Vec<Template>),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}

/// Why params could not be built from (already validated) arguments.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    /// The arguments themselves are invalid.
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// A value to merge into an object is not an object.
    #[error("`{action}`: argument `{arg}` must be an object to be merged")]
    NotAnObject {
        /// The action called.
        action: ActionName,
        /// The argument at fault.
        arg: String,
    },
    /// The raw body is not JSON.
    #[error("Failed to parse body as JSON: {0}")]
    Body(String),
    /// The raw request names no method, or one it may not.
    #[error("{0}")]
    Rest(#[from] truenas_api::rest::RestError),
    /// The connected release has no method for the action; nothing was sent.
    #[error(
        "`{method}` does not exist on the connected TrueNAS ({release}){}",
        .note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
    )]
    Unavailable {
        /// The action called.
        action: ActionName,
        /// The method it would call there.
        method: MethodName,
        /// The connected release.
        release: crate::schema::Release,
        /// What to use instead, or since when it exists, where the catalog says.
        note: Option<String>,
    },
    /// The argument does not exist on the connected release; nothing was sent.
    #[error("`{arg}` does not exist on the connected TrueNAS ({release}){}", .note.as_deref().map(|n| format!(": {n}")).unwrap_or_default())]
    ArgUnavailable {
        /// The action called.
        action: ActionName,
        /// The argument given.
        arg: String,
        /// The connected release.
        release: crate::schema::Release,
        /// What to use instead, where the catalog says.
        note: Option<String>,
    },
    /// A read the call makes first (`[[action.lookup]]`) found nothing; the call was not sent.
    #[error("`{action}`: {}; nothing else was sent", .note.clone().unwrap_or_else(|| format!("`{method}` found nothing")))]
    LookupEmpty {
        /// The action called.
        action: ActionName,
        /// The read's method.
        method: MethodName,
        /// What that means, where the catalog says.
        note: Option<String>,
    },
    /// A read the call makes first gave no value for an argument the call needs.
    #[error("`{action}`: `{method}` gave no `{arg}`; nothing else was sent")]
    LookupLacks {
        /// The action called.
        action: ActionName,
        /// The read's method.
        method: MethodName,
        /// The argument it was to fill.
        arg: String,
    },
    /// The value is not among the choices TrueNAS offers; the call was not sent.
    #[error(
        "`{arg}` must be one of {} (the choices of TrueNAS's `{method}`), got {got}",
        .choices.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
    )]
    NotAChoice {
        /// The argument at fault.
        arg: String,
        /// The read that lists the choices.
        method: MethodName,
        /// What was given, as JSON.
        got: String,
        /// The choices.
        choices: Vec<String>,
    },
    /// A positional param has no value while a later one has.
    #[error("`{action}`: position {position} of the params has no value while a later one has")]
    Hole {
        /// The action called.
        action: ActionName,
        /// Zero-based index into the params array.
        position: usize,
    },
}

/// The result of evaluating a node.
enum Eval {
    Absent,
    Present(Value),
    /// An array that dropped an element because a reference in it was absent.
    Partial(Value),
}

impl Eval {
    fn value(self) -> Option<Value> {
        match self {
            Eval::Absent => None,
            Eval::Present(v) | Eval::Partial(v) => Some(v),
        }
    }
}

/// Parses a template. Problems (undeclared or forbidden references, bad `$merge`) are pushed
/// to `problems`; `used[i]` is set for every argument referenced.
pub(crate) fn parse(value: &toml::Value, args: &[ArgDef], used: &mut [bool], problems: &mut Vec<String>) -> Template {
    match value {
        toml::Value::String(s) => parse_string(s, args, used, problems),
        toml::Value::Array(items) => Template::Array(items.iter().map(|v| parse(v, args, used, problems)).collect()),
        toml::Value::Table(table) => {
            if let Some(operands) = table.get("$merge") {
                if table.len() != 1 {
                    problems.push("a `$merge` table must have no other key".into());
                }
                let toml::Value::Array(items) = operands else {
                    problems.push("`$merge` takes an array of objects".into());
                    return Template::Literal(Value::Null);
                };
                let ops: Vec<Template> = items.iter().map(|v| parse(v, args, used, problems)).collect();
                for op in &ops {
                    check_mergeable(op, args, problems);
                }
                return Template::Merge(ops);
            }
            Template::Object(table.iter().map(|(k, v)| (k.clone(), parse(v, args, used, problems))).collect())
        }
        other => match literal(other) {
            Ok(v) => Template::Literal(v),
            Err(e) => {
                problems.push(e);
                Template::Literal(Value::Null)
            }
        },
    }
}

fn parse_string(s: &str, args: &[ArgDef], used: &mut [bool], problems: &mut Vec<String>) -> Template {
    if let Some(escaped) = s.strip_prefix("$$") {
        return Template::Literal(Value::String(format!("${escaped}")));
    }
    let Some(name) = s.strip_prefix('$') else { return Template::Literal(Value::String(s.into())) };
    if name == "rest" {
        return Template::Rest;
    }
    if name == CONFIRM {
        problems.push("`confirm` is checked by the server and must not be forwarded".into());
    }
    match args.iter().position(|a| a.name == name) {
        Some(i) => {
            used[i] = true;
            Template::Arg(i)
        }
        None => {
            problems.push(format!("the params template references undeclared argument `{name}`"));
            Template::Literal(Value::Null)
        }
    }
}

fn check_mergeable(op: &Template, args: &[ArgDef], problems: &mut Vec<String>) {
    let ok = match op {
        Template::Literal(v) => v.is_object(),
        Template::Arg(i) => args.get(*i).is_some_and(|a| a.kind == ArgType::Object),
        Template::Rest | Template::Merge(_) | Template::Object(_) => true,
        Template::Array(_) => false,
    };
    if !ok {
        problems.push("every `$merge` operand must be an object, an object argument or `$rest`".into());
    }
}

/// A TOML value without references as JSON.
pub(crate) fn literal(value: &toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map(Value::Number).ok_or_else(|| format!("`{f}` is not a JSON number"))?
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => return Err(format!("dates such as `{d}` have no JSON form; use a string")),
        toml::Value::Array(items) => Value::Array(items.iter().map(literal).collect::<Result<_, _>>()?),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| Ok((k.clone(), literal(v)?))).collect::<Result<_, String>>()?)
        }
    })
}

impl Template {
    /// Whether this top-level position can end up without a value.
    pub(crate) fn may_be_absent(&self, args: &[ArgDef]) -> bool {
        match self {
            Template::Arg(i) => args.get(*i).is_some_and(|a| !a.required && a.default.is_none()),
            Template::Merge(ops) => !ops.iter().any(|op| match op {
                Template::Literal(Value::Object(m)) => !m.is_empty(),
                Template::Object(fields) => fields.iter().any(|(_, t)| !t.may_be_absent(args)),
                _ => false,
            }),
            Template::Literal(_) | Template::Rest | Template::Object(_) | Template::Array(_) => false,
        }
    }
}

/// What a template is evaluated against.
pub(crate) struct Context<'a> {
    pub(crate) action: &'a ActionName,
    pub(crate) defs: &'a [ArgDef],
    pub(crate) args: &'a Map<String, Value>,
    /// `rest[i]` is true for the arguments `$rest` gathers.
    pub(crate) rest: &'a [bool],
}

impl Context<'_> {
    /// The value of argument `i`: given, else its default (declared, under its other name, or
    /// derived); integral floats of integer arguments become integers.
    fn arg(&self, i: usize) -> Option<Value> {
        let def = self.defs.get(i)?;
        let value = match self.args.get(&def.name) {
            Some(v) => v.clone(),
            None => super::model::fallback(self.defs, i, self.args)?,
        };
        if def.kind == ArgType::Integer
            && let Some(n) = as_integer(&value)
        {
            return Some(Value::Number(n));
        }
        Some(value)
    }
}

impl ActionDef {
    /// The middleware method and positional params a call with `args` makes on the current
    /// releases (25.10 and later), ignoring routes: see [`ActionDef::resolve_for`] for the
    /// connected release. For most actions the method is fixed; the raw escape hatch names it
    /// in its arguments (REST style).
    pub fn resolve(&self, args: &ValidArgs<'_>) -> Result<(MethodName, Value), MappingError> {
        if !self.rest_call {
            return Ok((self.method.clone(), self.build_params(args)?));
        }
        let args = args.for_action(self)?;
        let text = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default();
        let body = match args.get("body") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(Value::String(s)) => {
                Some(serde_json::from_str::<Value>(s).map_err(|e| MappingError::Body(e.to_string()))?)
            }
            Some(other) => Some(other.clone()),
        };
        let request = truenas_api::rest::RestRequest { verb: text("method"), path: text("path"), body: body.as_ref() };
        // Which names are services is the same on every release we speak; the connected
        // release's own table still checks the method and params before anything is sent.
        let table = crate::schema::MethodTable::get(crate::schema::Release::V25_10);
        let (method, params) = truenas_api::rest::resolve(request, table)?;
        Ok((MethodName::new(method), params))
    }

    /// Whether the method is named by the arguments (the raw escape hatch).
    pub fn is_rest_call(&self) -> bool {
        self.rest_call
    }

    /// Builds the positional params array of the middleware call from validated arguments.
    /// `confirm` is never part of it.
    pub fn build_params(&self, args: &ValidArgs<'_>) -> Result<Value, MappingError> {
        let args = args.for_action(self)?;
        build(&self.params, &Context { action: &self.name, defs: &self.args, args, rest: &self.rest })
    }

    /// [`ActionDef::validate_args`], then [`ActionDef::resolve`]: for callers that hold
    /// arguments no one validated yet (tests, tools over the catalog).
    pub fn check_and_resolve(&self, args: &Map<String, Value>) -> Result<(MethodName, Value), MappingError> {
        self.resolve(&self.validate_args(args)?)
    }

    /// [`ActionDef::validate_args`], then [`ActionDef::build_params`].
    pub fn check_and_build_params(&self, args: &Map<String, Value>) -> Result<Value, MappingError> {
        self.build_params(&self.validate_args(args)?)
    }
}

/// Whether a template gathers the unreferenced arguments somewhere.
pub(crate) fn contains_rest(t: &Template) -> bool {
    match t {
        Template::Rest => true,
        Template::Merge(items) | Template::Array(items) => items.iter().any(contains_rest),
        Template::Object(fields) => fields.iter().any(|(_, t)| contains_rest(t)),
        Template::Literal(_) | Template::Arg(_) => false,
    }
}

/// Builds the positional params array from a top-level template.
pub(crate) fn build(positions: &[Template], ctx: &Context<'_>) -> Result<Value, MappingError> {
    let mut out: Vec<Option<Value>> =
        positions.iter().map(|t| eval(t, ctx).map(Eval::value)).collect::<Result<_, _>>()?;
    while matches!(out.last(), Some(None)) {
        out.pop();
    }
    let mut params = Vec::with_capacity(out.len());
    for (position, v) in out.into_iter().enumerate() {
        params.push(v.ok_or_else(|| MappingError::Hole { action: ctx.action.clone(), position })?);
    }
    Ok(Value::Array(params))
}

fn eval(t: &Template, ctx: &Context<'_>) -> Result<Eval, MappingError> {
    Ok(match t {
        Template::Literal(v) => Eval::Present(v.clone()),
        Template::Arg(i) => ctx.arg(*i).map_or(Eval::Absent, Eval::Present),
        Template::Rest => {
            let fields = ctx.defs.iter().enumerate().filter(|(i, _)| ctx.rest.get(*i).copied().unwrap_or(false));
            Eval::Present(Value::Object(fields.filter_map(|(i, d)| Some((d.name.clone(), ctx.arg(i)?))).collect()))
        }
        Template::Object(fields) => {
            let mut out = Map::new();
            for (key, field) in fields {
                if let Some(v) = eval(field, ctx)?.value() {
                    out.insert(key.clone(), v);
                }
            }
            Eval::Present(Value::Object(out))
        }
        Template::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut lost = false;
            for item in items {
                match eval(item, ctx)? {
                    Eval::Present(v) => out.push(v),
                    Eval::Absent | Eval::Partial(_) => lost = true,
                }
            }
            if lost { Eval::Partial(Value::Array(out)) } else { Eval::Present(Value::Array(out)) }
        }
        Template::Merge(ops) => {
            let mut out = Map::new();
            for op in ops {
                match eval(op, ctx)?.value() {
                    None => {}
                    Some(Value::Object(m)) => out.extend(m),
                    Some(_) => {
                        let arg = match op {
                            Template::Arg(i) => ctx.defs.get(*i).map(|d| d.name.clone()).unwrap_or_default(),
                            _ => String::new(),
                        };
                        return Err(MappingError::NotAnObject { action: ctx.action.clone(), arg });
                    }
                }
            }
            if out.is_empty() { Eval::Absent } else { Eval::Present(Value::Object(out)) }
        }
    })
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
