//! Loading a policy: parse the JSON, walk all of it reporting every problem with its JSON
//! Pointer (so one run shows everything to fix), then read the typed document and hand it to
//! `compile`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::compile::compile;
use super::decision::Policy;
use super::document::{Effect, Op, PolicyDocument, Scope, Window};
use super::limits::LimitSpec;
use super::predicate::{Predicate, article, parse_path};
use crate::ids::RuleId;

/// One thing wrong with a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub(crate) pointer: String,
    pub(crate) message: String,
}

impl Problem {
    /// Where: a JSON Pointer into the document (`""` for the document itself).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() { "(document)" } else { &self.pointer };
        write!(f, "{at}: {}", self.message)
    }
}

/// A policy that cannot be used. Its display lists every problem, one per line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The text is not a policy; each problem carries its JSON Pointer.
    #[error("{}", ProblemLines(.0))]
    Invalid(Vec<Problem>),
}

impl PolicyError {
    /// Every problem found, in document order.
    pub fn problems(&self) -> &[Problem] {
        match self {
            PolicyError::Invalid(problems) => problems,
        }
    }
}

struct ProblemLines<'a>(&'a [Problem]);

impl fmt::Display for ProblemLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// Escapes one JSON Pointer segment (`~` -> `~0`, `/` -> `~1`).
pub(crate) fn escape(segment: &str) -> Cow<'_, str> {
    if segment.contains(['~', '/']) {
        Cow::Owned(segment.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(segment)
    }
}

pub(crate) fn child(at: &str, segment: &str) -> String {
    format!("{at}/{}", escape(segment))
}

const TOP_KEYS: &[&str] = &["version", "description", "default", "hide", "all_tools", "tools", "x-risk-defaults"];
const ALL_TOOLS_KEYS: &[&str] = &["limits"];
const TOOL_KEYS: &[&str] = &["require", "deny_if", "limits", "on_deny"];
const PREDICATE_KEYS: &[&str] = &["path", "op", "value", "on_deny"];
const LIMIT_KEYS: &[&str] = &["counter", "window", "max", "scope", "on_deny"];
const RISK_KEYS: &[&str] = &["read", "write", "destructive"];

/// Parses, checks and compiles a policy document.
pub(crate) fn load(text: &str) -> Result<(PolicyDocument, Policy, Vec<LimitSpec>), PolicyError> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| {
        PolicyError::Invalid(vec![Problem { pointer: String::new(), message: format!("invalid JSON: {e}") }])
    })?;
    let mut checker = Checker::default();
    checker.document(&value);
    if !checker.problems.is_empty() {
        return Err(PolicyError::Invalid(checker.problems));
    }
    // Extensions under `tools` are not tool entries.
    if let Some(tools) = value.get_mut("tools").and_then(Value::as_object_mut) {
        tools.retain(|name, _| !name.starts_with("x-"));
    }
    let doc: PolicyDocument = serde_json::from_value(value)
        .map_err(|e| PolicyError::Invalid(vec![Problem { pointer: String::new(), message: e.to_string() }]))?;
    let (policy, limits) = compile(&doc).map_err(PolicyError::Invalid)?;
    Ok((doc, policy, limits))
}

/// Collects problems while walking the raw JSON.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { pointer: pointer.into(), message: message.into() });
    }

    /// An object whose keys are all `known` or `x-` extensions.
    fn object<'v>(&mut self, v: &'v Value, at: &str, known: &[&str]) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.problem(at, format!("must be an object, found {}", article(v)));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) && !key.starts_with("x-") {
                self.problem(
                    child(at, key),
                    format!("unknown key `{key}`; expected {}, or an `x-` extension", quoted(known).join(", ")),
                );
            }
        }
        Some(map)
    }

    fn required<'v>(&mut self, map: &'v Map<String, Value>, at: &str, key: &str) -> Option<&'v Value> {
        let found = map.get(key);
        if found.is_none() {
            self.problem(child(at, key), format!("missing required key `{key}`"));
        }
        found
    }

    fn string<'v>(&mut self, v: &'v Value, at: &str) -> Option<&'v str> {
        match v {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::String(_) => {
                self.problem(at, "must not be empty");
                None
            }
            other => {
                self.problem(at, format!("must be a string, found {}", article(other)));
                None
            }
        }
    }

    fn array<'v>(&mut self, v: &'v Value, at: &str) -> &'v [Value] {
        match v {
            Value::Array(items) => items,
            other => {
                self.problem(at, format!("must be an array, found {}", article(other)));
                &[]
            }
        }
    }

    /// One of a fixed set of names.
    fn choice<T: Copy>(&mut self, v: &Value, at: &str, all: &[T], name: fn(T) -> &'static str) -> Option<T> {
        let found = v.as_str().and_then(|s| all.iter().copied().find(|&t| name(t) == s));
        if found.is_none() {
            let names: Vec<&str> = all.iter().map(|&t| name(t)).collect();
            self.problem(at, format!("must be {}, found {}", one_of(&names), shown(v)));
        }
        found
    }

    fn document(&mut self, v: &Value) {
        let Some(top) = self.object(v, "", TOP_KEYS) else { return };
        match self.required(top, "", "version") {
            Some(Value::String(s)) if s == "1" => {}
            Some(other) => {
                self.problem("/version", format!("unsupported version {}; only `\"1\"` exists", shown(other)))
            }
            None => {}
        }
        if let Some(d) = self.required(top, "", "default") {
            self.choice(d, "/default", &Effect::ALL, Effect::as_str);
        }
        if let Some(d) = top.get("description")
            && !d.is_string()
        {
            self.problem("/description", format!("must be a string, found {}", article(d)));
        }
        if let Some(hide) = top.get("hide") {
            for (i, name) in self.array(hide, "/hide").iter().enumerate() {
                self.string(name, &format!("/hide/{i}"));
            }
        }
        if let Some(all) = top.get("all_tools")
            && let Some(all) = self.object(all, "/all_tools", ALL_TOOLS_KEYS)
            && let Some(limits) = all.get("limits")
        {
            self.limits(limits, "/all_tools/limits");
        }
        if let Some(tools) = top.get("tools") {
            self.tools(tools);
        }
        if let Some(risk) = top.get("x-risk-defaults")
            && let Some(risk) = self.object(risk, "/x-risk-defaults", RISK_KEYS)
        {
            for key in RISK_KEYS {
                if let Some(effect) = risk.get(*key) {
                    self.choice(effect, &child("/x-risk-defaults", key), &Effect::ALL, Effect::as_str);
                }
            }
        }
    }

    fn tools(&mut self, tools: &Value) {
        let Some(tools) = tools.as_object() else {
            self.problem("/tools", format!("must be an object, found {}", article(tools)));
            return;
        };
        for (name, entry) in tools {
            let at = child("/tools", name);
            if name.starts_with("x-") {
                continue;
            }
            if name.is_empty() {
                self.problem(&at, "a tool name must not be empty");
            } else if name == "*" {
                self.problem(&at, "`*` is only meaningful in `hide`; put rules for every tool under `all_tools`");
            }
            let Some(entry) = self.object(entry, &at, TOOL_KEYS) else { continue };
            for list in ["require", "deny_if"] {
                if let Some(predicates) = entry.get(list) {
                    self.predicates(predicates, &child(&at, list));
                }
            }
            if let Some(limits) = entry.get("limits") {
                self.limits(limits, &child(&at, "limits"));
            }
            if let Some(text) = entry.get("on_deny") {
                self.string(text, &child(&at, "on_deny"));
            }
        }
    }

    fn predicates(&mut self, list: &Value, at: &str) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, p) in self.array(list, at).iter().enumerate() {
            let at = format!("{at}/{i}");
            let Some(p) = self.object(p, &at, PREDICATE_KEYS) else { continue };
            let path = self.required(p, &at, "path").and_then(|v| self.string(v, &child(&at, "path")));
            if let Some(path) = path
                && let Err(message) = parse_path(path)
            {
                self.problem(child(&at, "path"), message);
            }
            let op = self.required(p, &at, "op").and_then(|v| self.choice(v, &child(&at, "op"), &Op::ALL, Op::as_str));
            if let Some(op) = op
                && let Err(message) = Predicate::new(RuleId::new(""), "args.x", op, p.get("value"), None)
            {
                self.problem(child(&at, "value"), message);
            }
            if let Some(text) = p.get("on_deny") {
                self.string(text, &child(&at, "on_deny"));
            }
            if let (Some(path), Some(op)) = (path, op) {
                let id = format!("{path}-{}", op.as_str());
                if let Some(first) = seen.get(&id) {
                    self.problem(&at, format!("duplicate predicate `{id}` (same path and op as {first})"));
                } else {
                    seen.insert(id, at);
                }
            }
        }
    }

    fn limits(&mut self, list: &Value, at: &str) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, l) in self.array(list, at).iter().enumerate() {
            let at = format!("{at}/{i}");
            let Some(l) = self.object(l, &at, LIMIT_KEYS) else { continue };
            let counter = self.required(l, &at, "counter").and_then(|v| self.string(v, &child(&at, "counter")));
            if let Some(window) = self.required(l, &at, "window") {
                self.choice(window, &child(&at, "window"), &Window::ALL, Window::as_str);
            }
            if let Some(max) = self.required(l, &at, "max")
                && max.as_u64().is_none()
            {
                self.problem(child(&at, "max"), format!("must be a whole number, 0 or more, found {}", shown(max)));
            }
            if let Some(scope) = self.required(l, &at, "scope") {
                self.choice(scope, &child(&at, "scope"), &Scope::ALL, Scope::as_str);
            }
            if let Some(text) = l.get("on_deny") {
                self.string(text, &child(&at, "on_deny"));
            }
            if let Some(counter) = counter {
                let counter_at = child(&at, "counter");
                if let Some(first) = seen.get(counter) {
                    self.problem(&counter_at, format!("duplicate counter `{counter}` (also at {first})"));
                } else {
                    seen.insert(counter.to_owned(), counter_at);
                }
            }
        }
    }
}

fn quoted(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("`{n}`")).collect()
}

/// `` `a`, `b` or `c` ``.
fn one_of(names: &[&str]) -> String {
    let quoted = quoted(names);
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// A found value for a message: `` `"2"` `` or `a number`... kept short.
fn shown(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => format!("`{v}`"),
        other => article(other),
    }
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
