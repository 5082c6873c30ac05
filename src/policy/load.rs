//! Loading a policy: parse the JSON strictly (`json`), walk all of it reporting every problem
//! with its JSON Pointer (so one run shows everything to fix), including names the catalog does
//! not know (`names`), then read the typed document, hand it to `compile`, and collect the
//! warnings `policy check` prints (`lint`). The checks of limits are in `load_limits.rs`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::compile::compile;
use super::decision::Policy;
use super::document::{Effect, Mode, Op, PolicyDocument, RiskEffect, Scope, Window};
use super::extensions::{
    AMOUNT, ANY_JOB, APPROVAL, APPROVAL_TTL, APPROVAL_WAIT, CONCURRENCY, COOLDOWN, EXTENSIONS, KEY, LIST_DENIED,
    LOOP_BREAKER, Location, MAX_APPROVAL_TTL, MAX_APPROVAL_WAIT, MAX_CONCURRENCY, MAX_SPAN_SECS, MODE, ROLLING, WHEN,
    parse_span, unknown_extension,
};
use super::limits::{LimitSpec, LoopBreaker};
use super::names::{self, Tool, Vocabulary};
use super::pattern::Cidr;
use super::predicate::{Predicate, article, parse_path};
use super::when::Windows;
use super::{json, lint};
use crate::catalog::Catalog;
use crate::gateway::JOB_STATUS;
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

// `$schema` is accepted (and ignored) at the top so editors can validate against
// `policy/policy.schema.json`.
const TOP_KEYS: &[&str] = &["version", "description", "default", "hide", "all_tools", "tools", "$schema"];
const ALL_TOOLS_KEYS: &[&str] = &["limits"];
const TOOL_KEYS: &[&str] = &["require", "deny_if", "limits", "on_deny"];
const PREDICATE_KEYS: &[&str] = &["path", "op", "value", "on_deny"];
const LIMIT_KEYS: &[&str] = &["counter", "window", "max", "scope", "on_deny"];
const RISK_KEYS: &[&str] = &["read", "write", "destructive"];
const RISK_DEFAULT_KEYS: &[&str] = &["effect"];

/// A note for humans (as JSON Schema's `$comment`), ignored by the engine: the one key besides
/// the format's own that `policy init` writes, accepted at the top, in `tools` entries and in
/// `x-risk-defaults` (and its object entries).
pub(crate) const COMMENT: &str = "$comment";
const COMMENTED: [Location; 4] = [Location::Top, Location::Tool, Location::RiskDefaults, Location::RiskDefault];

/// The most values an `in` or `not_in` list may hold.
pub(crate) const MAX_LIST: usize = 1_000;

/// A loaded policy: the document, its compiled rules and limits, and its warnings.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) doc: PolicyDocument,
    pub(crate) policy: Policy,
    pub(crate) limits: Vec<LimitSpec>,
    pub(crate) breaker: Option<LoopBreaker>,
    pub(crate) warnings: Vec<Problem>,
}

/// Parses, checks and compiles a policy document against the catalog's names.
pub(crate) fn load(text: &str, catalog: &Catalog) -> Result<Loaded, PolicyError> {
    let value = json::parse(text).map_err(PolicyError::Invalid)?;
    let vocabulary = Vocabulary::new(catalog);
    let mut checker = Checker { problems: Vec::new(), vocabulary: &vocabulary };
    checker.document(&value);
    if !checker.problems.is_empty() {
        return Err(PolicyError::Invalid(checker.problems));
    }
    let doc: PolicyDocument = serde_json::from_value(value)
        .map_err(|e| PolicyError::Invalid(vec![Problem { pointer: String::new(), message: e.to_string() }]))?;
    let (policy, limits, breaker) = compile(&doc).map_err(PolicyError::Invalid)?;
    let warnings = lint::warnings(&doc, &vocabulary);
    Ok(Loaded { doc, policy, limits, breaker, warnings })
}

/// Collects problems while walking the raw JSON.
struct Checker<'v, 'c> {
    problems: Vec<Problem>,
    vocabulary: &'v Vocabulary<'c>,
}

impl Checker<'_, '_> {
    fn problem(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { pointer: pointer.into(), message: message.into() });
    }

    /// An object whose keys are all `known` or extensions known at `location`.
    fn object<'v>(
        &mut self,
        v: &'v Value,
        at: &str,
        known: &[&str],
        location: Location,
    ) -> Option<&'v Map<String, Value>> {
        let Some(map) = v.as_object() else {
            self.problem(at, format!("must be an object, found {}", article(v)));
            return None;
        };
        for key in map.keys() {
            if key == COMMENT && COMMENTED.contains(&location) {
                if let Some(v) = map.get(key).filter(|v| !v.is_string()) {
                    self.problem(child(at, key), format!("must be a string, found {}", article(v)));
                }
            } else if key.starts_with("x-") {
                if !EXTENSIONS.iter().any(|(name, loc, _)| name == key && *loc == location) {
                    self.problem(child(at, key), unknown_extension(key));
                }
            } else if !known.contains(&key.as_str()) {
                let extensions = EXTENSIONS.iter().filter(|(_, loc, _)| *loc == location).map(|(name, ..)| *name);
                let expected: Vec<&str> = known.iter().copied().chain(extensions).collect();
                let mut message = format!("unknown key `{key}`; expected {}", quoted(&expected).join(", "));
                if let Some(best) = names::suggest(key, expected.iter().copied()) {
                    message.push_str(&format!("; did you mean `{best}`?"));
                }
                self.problem(child(at, key), message);
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
        let Some(top) = self.object(v, "", TOP_KEYS, Location::Top) else { return };
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
        if let Some(s) = top.get("$schema")
            && !s.is_string()
        {
            self.problem("/$schema", format!("must be a string, found {}", article(s)));
        }
        if let Some(hide) = top.get("hide") {
            for (i, name) in self.array(hide, "/hide").iter().enumerate() {
                let at = format!("/hide/{i}");
                if let Some(name) = self.string(name, &at)
                    && let Err(message) = self.vocabulary.hidden(name)
                {
                    self.problem(at, message);
                }
            }
        }
        if let Some(all) = top.get("all_tools")
            && let Some(all) = self.object(all, "/all_tools", ALL_TOOLS_KEYS, Location::AllTools)
            && let Some(limits) = all.get("limits")
        {
            self.limits(limits, "/all_tools/limits", None);
        }
        if let Some(tools) = top.get("tools") {
            self.tools(tools);
        }
        if let Some(risk) = top.get("x-risk-defaults")
            && let Some(risk) = self.object(risk, "/x-risk-defaults", RISK_KEYS, Location::RiskDefaults)
        {
            for key in RISK_KEYS {
                let at = child("/x-risk-defaults", key);
                match risk.get(*key) {
                    None => {}
                    // The object form: an effect with maintenance windows.
                    Some(object @ Value::Object(_)) => {
                        if let Some(entry) = self.object(object, &at, RISK_DEFAULT_KEYS, Location::RiskDefault) {
                            if let Some(effect) = self.required(entry, &at, "effect") {
                                self.choice(effect, &child(&at, "effect"), &RiskEffect::ALL, RiskEffect::as_str);
                            }
                            self.when(entry, &at);
                        }
                    }
                    Some(effect) => {
                        self.choice(effect, &at, &RiskEffect::ALL, RiskEffect::as_str);
                    }
                }
            }
        }
        self.approval_times(top, "");
        if let Some(breaker) = top.get(LOOP_BREAKER) {
            self.loop_breaker(breaker);
        }
        if let Some(v) = top.get(LIST_DENIED)
            && !v.is_boolean()
        {
            self.problem(child("", LIST_DENIED), format!("must be `true` or `false`, found {}", shown(v)));
        }
        self.mode(top, "");
    }

    /// `x-mode` of the document or of one tool entry.
    fn mode(&mut self, map: &Map<String, Value>, at: &str) {
        if let Some(mode) = map.get(MODE) {
            self.choice(mode, &child(at, MODE), &Mode::ALL, Mode::as_str);
        }
    }

    /// `x-approval-ttl` and `x-approval-wait` of the document or of one tool entry.
    fn approval_times(&mut self, map: &Map<String, Value>, at: &str) {
        for (key, min, max) in [(APPROVAL_TTL, 1, MAX_APPROVAL_TTL), (APPROVAL_WAIT, 0, MAX_APPROVAL_WAIT)] {
            if let Some(v) = map.get(key)
                && !v.as_u64().is_some_and(|n| (min..=max).contains(&n))
            {
                self.problem(
                    child(at, key),
                    format!("must be a whole number of seconds from {min} to {max}, found {}", shown(v)),
                );
            }
        }
    }

    fn tools(&mut self, tools: &Value) {
        let vocabulary = self.vocabulary;
        let Some(tools) = tools.as_object() else {
            self.problem("/tools", format!("must be an object, found {}", article(tools)));
            return;
        };
        for (name, entry) in tools {
            let at = child("/tools", name);
            if name.starts_with("x-") {
                // No extension is known directly under `tools`.
                self.problem(&at, unknown_extension(name));
                continue;
            }
            let tool = if name.is_empty() {
                self.problem(&at, "a tool name must not be empty");
                None
            } else if name == "*" {
                self.problem(&at, "`*` is only meaningful in `hide`; put rules for every tool under `all_tools`");
                None
            } else {
                vocabulary.tool(name).map_err(|message| self.problem(&at, message)).ok()
            };
            let Some(entry) = self.object(entry, &at, TOOL_KEYS, Location::Tool) else { continue };
            if let Some(any_job) = entry.get(ANY_JOB) {
                let at = child(&at, ANY_JOB);
                if name != JOB_STATUS {
                    self.problem(at, format!("`{ANY_JOB}` is only allowed on the `{JOB_STATUS}` entry"));
                } else if !any_job.is_boolean() {
                    self.problem(at, format!("must be a boolean, found {}", article(any_job)));
                }
            }
            for list in ["require", "deny_if"] {
                if let Some(predicates) = entry.get(list) {
                    self.predicates(predicates, &child(&at, list), tool.as_ref());
                }
            }
            if let Some(limits) = entry.get("limits") {
                self.limits(limits, &child(&at, "limits"), Some(tool.as_ref()));
            }
            if let Some(text) = entry.get("on_deny") {
                self.string(text, &child(&at, "on_deny"));
            }
            // Approval predicates name arguments exactly as `require` does.
            match entry.get(APPROVAL) {
                None => {}
                Some(Value::String(word)) if word == "always" => {}
                Some(list @ Value::Array(_)) => self.predicates(list, &child(&at, APPROVAL), tool.as_ref()),
                Some(other) => self.problem(
                    child(&at, APPROVAL),
                    format!("must be `\"always\"` or a list of predicates, found {}", shown(other)),
                ),
            }
            self.approval_times(entry, &at);
            self.mode(entry, &at);
            self.when(entry, &at);
        }
    }

    /// The `x-when` of a tool entry or a risk default object, if it has one.
    fn when(&mut self, map: &Map<String, Value>, at: &str) {
        if let Some(value) = map.get(WHEN)
            && let Err(problems) = Windows::parse(value)
        {
            let at = child(at, WHEN);
            for (below, message) in problems {
                self.problem(format!("{at}{below}"), message);
            }
        }
    }

    /// The predicates of one tool entry; `tool` is what the entry names, when it names something.
    fn predicates(&mut self, list: &Value, at: &str, tool: Option<&Tool<'_>>) {
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, p) in self.array(list, at).iter().enumerate() {
            let at = format!("{at}/{i}");
            let Some(p) = self.object(p, &at, PREDICATE_KEYS, Location::Predicate) else { continue };
            let path = self.required(p, &at, "path").and_then(|v| self.string(v, &child(&at, "path")));
            match path.map(parse_path) {
                Some(Err(message)) => self.problem(child(&at, "path"), message),
                Some(Ok(segments)) => {
                    if let Some(message) = tool.and_then(|t| names::check_path(t, &segments)) {
                        self.problem(child(&at, "path"), message);
                    }
                }
                None => {}
            }
            let op = self.required(p, &at, "op").and_then(|v| self.choice(v, &child(&at, "op"), &Op::ALL, Op::as_str));
            if let (Some(Op::In | Op::NotIn), Some(Value::Array(values))) = (op, p.get("value"))
                && values.len() > MAX_LIST
            {
                self.problem(
                    child(&at, "value"),
                    format!("the list has {} values; the limit is {MAX_LIST}", values.len()),
                );
            } else if let (Some(Op::Cidr), Some(Value::Array(values))) = (op, p.get("value"))
                && values.len() > MAX_LIST
            {
                self.problem(
                    child(&at, "value"),
                    format!("the list has {} networks; the limit is {MAX_LIST}", values.len()),
                );
            } else if let (Some(Op::Cidr), Some(Value::Array(values))) = (op, p.get("value"))
                && !values.is_empty()
            {
                // Each network at its own path, so one run shows every bad one.
                for (j, item) in values.iter().enumerate() {
                    let checked = match item {
                        Value::String(text) => Cidr::parse(text).map(|_| ()),
                        other => Err(format!("`cidr` needs CIDR strings, found {}", article(other))),
                    };
                    if let Err(message) = checked {
                        self.problem(format!("{at}/value/{j}"), message);
                    }
                }
            } else if let Some(op) = op
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

#[path = "load_limits.rs"]
mod limit_checks;

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "load_extensions_tests.rs"]
mod extension_tests;
