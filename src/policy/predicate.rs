//! Predicates: one test on one call argument (`{path, op, value}`), checked at load and
//! evaluated per call, with the messages an agent reads when one denies.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Number, Value};

use super::document::Op;
use super::pattern::{Cidr, Glob};
use crate::ids::RuleId;

/// A compiled predicate.
#[derive(Debug)]
pub(crate) struct Predicate {
    /// `/tools/<tool>/<require|deny_if>/<path>-<op>`.
    pub(crate) rule: RuleId,
    /// The path as written (`args.name`), for messages.
    path: String,
    /// The path below `args`, split at dots.
    segments: Vec<String>,
    op: Op,
    /// The operand as written, for messages.
    value: Value,
    test: Test,
    /// The author's message: the predicate's own `on_deny`, else its tool entry's.
    on_deny: Option<String>,
}

/// The operand in the form each op evaluates.
#[derive(Debug)]
enum Test {
    Equal(Value),
    NotEqual(Value),
    OneOf(Vec<Value>),
    NoneOf(Vec<Value>),
    Compare(Op, Number),
    Matches(Regex),
    Contains(Value),
    Exists(bool),
    StartsWith(String),
    Glob(Glob),
    /// Any of these networks.
    Cidr(Vec<Cidr>),
    /// `len_lte` or `len_gte` and the bound.
    Len(Op, u64),
    /// Inclusive bounds, lo <= hi.
    Between(Number, Number),
}

/// What a predicate says about one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eval {
    /// The predicate is true.
    Holds,
    /// The predicate is false.
    Fails,
    /// The path is absent, so the predicate is false.
    Missing,
    /// The argument has a type the op cannot compare (named here); this denies.
    Mismatch(&'static str),
    /// The argument's value cannot be told (a raw call read as its twin action); this denies.
    Unknown,
}

impl Predicate {
    /// Compiles a predicate already checked by the loader; any problem comes back as a message.
    pub(crate) fn new(
        rule: RuleId,
        path: &str,
        op: Op,
        value: Option<&Value>,
        on_deny: Option<String>,
    ) -> Result<Predicate, String> {
        let segments = parse_path(path)?;
        let test = Test::new(op, value)?;
        Ok(Predicate {
            rule,
            path: path.to_owned(),
            segments,
            op,
            value: value.cloned().unwrap_or(Value::Bool(true)),
            test,
            on_deny,
        })
    }

    /// The argument the predicate reads (the first segment of its path).
    pub(crate) fn arg_name(&self) -> &str {
        self.segments.first().map_or("", String::as_str)
    }

    /// The predicate as written (`` `args.name` regex `^tank/` ``), for `policy explain`.
    pub(crate) fn describe(&self) -> String {
        format!("`{}` {} `{}`", self.path, self.op.as_str(), render(&self.value))
    }

    /// Evaluates the predicate against a call's arguments.
    pub(crate) fn eval(&self, args: &Map<String, Value>) -> Eval {
        let found = lookup(args, &self.segments);
        let Some(arg) = found else {
            return match self.test {
                Test::Exists(want) => truth(!want),
                _ => Eval::Missing,
            };
        };
        match &self.test {
            Test::Exists(want) => truth(*want),
            Test::Equal(v) => truth(json_eq(arg, v)),
            Test::NotEqual(v) => truth(!json_eq(arg, v)),
            Test::OneOf(vs) => truth(vs.iter().any(|v| json_eq(arg, v))),
            Test::NoneOf(vs) => truth(!vs.iter().any(|v| json_eq(arg, v))),
            Test::Compare(op, bound) => match arg {
                Value::Number(n) => match compare_numbers(n, bound) {
                    Some(ord) => truth(match op {
                        Op::Lt => ord == Ordering::Less,
                        Op::Lte => ord != Ordering::Greater,
                        Op::Gt => ord == Ordering::Greater,
                        _ => ord != Ordering::Less,
                    }),
                    None => Eval::Mismatch("number"),
                },
                other => Eval::Mismatch(kind(other)),
            },
            Test::Matches(re) => match arg {
                Value::String(s) => truth(re.is_match(s)),
                other => Eval::Mismatch(kind(other)),
            },
            Test::Contains(needle) => match (arg, needle) {
                (Value::String(s), Value::String(n)) => truth(s.contains(n.as_str())),
                (Value::Array(items), _) => truth(items.iter().any(|v| json_eq(v, needle))),
                (other, _) => Eval::Mismatch(kind(other)),
            },
            Test::StartsWith(prefix) => match arg {
                Value::String(s) => truth(s.starts_with(prefix.as_str())),
                other => Eval::Mismatch(kind(other)),
            },
            Test::Glob(glob) => match arg {
                Value::String(s) => truth(glob.is_match(s)),
                other => Eval::Mismatch(kind(other)),
            },
            Test::Cidr(networks) => match arg {
                Value::String(s) => match s.parse::<std::net::IpAddr>() {
                    Ok(addr) => truth(networks.iter().any(|n| n.contains(addr))),
                    Err(_) => Eval::Mismatch(NOT_AN_ADDRESS),
                },
                other => Eval::Mismatch(kind(other)),
            },
            Test::Len(op, bound) => {
                let len = match arg {
                    Value::String(s) => s.chars().count(),
                    Value::Array(items) => items.len(),
                    Value::Object(map) => map.len(),
                    other => return Eval::Mismatch(kind(other)),
                };
                let len = u64::try_from(len).unwrap_or(u64::MAX);
                truth(if *op == Op::LenLte { len <= *bound } else { len >= *bound })
            }
            Test::Between(lo, hi) => match arg {
                Value::Number(n) => match (compare_numbers(n, lo), compare_numbers(n, hi)) {
                    (Some(above), Some(below)) => truth(above != Ordering::Less && below != Ordering::Greater),
                    _ => Eval::Mismatch("number"),
                },
                other => Eval::Mismatch(kind(other)),
            },
        }
    }

    /// Why this predicate denies a call. `required` is true for `require` (the predicate had to
    /// hold) and false for `deny_if` (it had to not hold).
    pub(crate) fn reason(&self, outcome: Eval, required: bool) -> String {
        let path = &self.path;
        if outcome == Eval::Unknown {
            return format!("`{path}` cannot be told from the raw call's params, so this rule cannot be checked");
        }
        if let Some(text) = &self.on_deny {
            return text.clone();
        }
        match outcome {
            Eval::Mismatch(found) => {
                format!("`{path}` is {}, but `{}` needs {}", with_article(found), self.op.as_str(), self.needs())
            }
            Eval::Missing => format!("`{path}` {}, but it is missing", self.expectation(required)),
            Eval::Holds | Eval::Fails | Eval::Unknown => format!("`{path}` {}", self.expectation(required)),
        }
    }

    /// The argument types this predicate can test, for mismatch messages.
    fn needs(&self) -> &'static str {
        match &self.test {
            Test::Compare(..) | Test::Between(..) => "a number",
            Test::Matches(_) | Test::StartsWith(_) | Test::Glob(_) => "a string",
            Test::Contains(Value::String(_)) => "a string or an array",
            Test::Cidr(_) => "an IP address string",
            Test::Len(..) => "a string, an array or an object",
            _ => "an array",
        }
    }

    /// What the argument must satisfy, phrased for the agent.
    fn expectation(&self, must_hold: bool) -> String {
        let v = render(&self.value);
        let present = matches!(self.test, Test::Exists(true));
        match (self.op, must_hold) {
            (Op::Eq, true) | (Op::Neq, false) => format!("must equal `{v}`"),
            (Op::Neq, true) | (Op::Eq, false) => format!("must not equal `{v}`"),
            (Op::In, true) | (Op::NotIn, false) => format!("must be one of `{v}`"),
            (Op::NotIn, true) | (Op::In, false) => format!("must not be one of `{v}`"),
            (Op::Lt, true) | (Op::Gte, false) => format!("must be less than `{v}`"),
            (Op::Lte, true) | (Op::Gt, false) => format!("must be at most `{v}`"),
            (Op::Gt, true) | (Op::Lte, false) => format!("must be greater than `{v}`"),
            (Op::Gte, true) | (Op::Lt, false) => format!("must be at least `{v}`"),
            (Op::Regex, true) => format!("must match `{v}`"),
            (Op::Regex, false) => format!("must not match `{v}`"),
            (Op::Contains, true) => format!("must contain `{v}`"),
            (Op::Contains, false) => format!("must not contain `{v}`"),
            (Op::Exists, hold) if hold == present => "must be given".to_owned(),
            (Op::Exists, _) => "must not be given".to_owned(),
            (Op::StartsWith, true) => format!("must start with `{v}`"),
            (Op::StartsWith, false) => format!("must not start with `{v}`"),
            (Op::Glob, true) => format!("must match the glob `{v}`"),
            (Op::Glob, false) => format!("must not match the glob `{v}`"),
            (Op::Cidr, true) => format!("must be an address in `{v}`"),
            (Op::Cidr, false) => format!("must not be an address in `{v}`"),
            (Op::LenLte, true) => format!("must have at most `{v}` characters, elements or keys"),
            (Op::LenLte, false) => format!("must have more than `{v}` characters, elements or keys"),
            (Op::LenGte, true) => format!("must have at least `{v}` characters, elements or keys"),
            (Op::LenGte, false) => format!("must have fewer than `{v}` characters, elements or keys"),
            (Op::Between, true) => format!("must be within `{v}` (inclusive)"),
            (Op::Between, false) => format!("must not be within `{v}` (inclusive)"),
        }
    }
}

impl Test {
    /// Checks an operand against its op. `value` is `None` when the key is absent.
    fn new(op: Op, value: Option<&Value>) -> Result<Test, String> {
        let name = op.as_str();
        let Some(value) = value else {
            return match op {
                Op::Exists => Ok(Test::Exists(true)),
                _ => Err(format!("missing; `{name}` needs a value to compare with")),
            };
        };
        match (op, value) {
            (Op::Eq, v) => Ok(Test::Equal(v.clone())),
            (Op::Neq, v) => Ok(Test::NotEqual(v.clone())),
            (Op::In, Value::Array(vs)) => Ok(Test::OneOf(vs.clone())),
            (Op::NotIn, Value::Array(vs)) => Ok(Test::NoneOf(vs.clone())),
            (Op::In | Op::NotIn, other) => Err(format!("`{name}` needs an array, found {}", article(other))),
            (Op::Lt | Op::Lte | Op::Gt | Op::Gte, Value::Number(n)) => Ok(Test::Compare(op, n.clone())),
            (Op::Lt | Op::Lte | Op::Gt | Op::Gte, other) => {
                Err(format!("`{name}` needs a number, found {}", article(other)))
            }
            (Op::Regex, Value::String(pattern)) => Regex::new(pattern)
                .map(Test::Matches)
                .map_err(|e| format!("invalid regex `{pattern}`: {}", regex_error(&e))),
            (Op::Regex, other) => Err(format!("`regex` needs a pattern string, found {}", article(other))),
            (Op::Contains, v) => Ok(Test::Contains(v.clone())),
            (Op::Exists, Value::Bool(want)) => Ok(Test::Exists(*want)),
            (Op::Exists, other) => Err(format!("`exists` takes `true` or `false`, found {}", article(other))),
            (Op::StartsWith, Value::String(prefix)) => Ok(Test::StartsWith(prefix.clone())),
            (Op::Glob, Value::String(pattern)) => Glob::new(pattern).map(Test::Glob),
            (Op::StartsWith | Op::Glob, other) => Err(format!("`{name}` needs a string, found {}", article(other))),
            (Op::Cidr, Value::String(text)) => Cidr::parse(text).map(|c| Test::Cidr(vec![c])),
            (Op::Cidr, Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Cidr::parse(text),
                    other => Err(format!("`cidr` needs CIDR strings, found {}", article(other))),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Test::Cidr),
            (Op::Cidr, other) => {
                Err(format!("`cidr` needs a CIDR string or a non-empty array of them, found {}", shown(other)))
            }
            (Op::LenLte | Op::LenGte, v) => match v.as_u64() {
                Some(n) => Ok(Test::Len(op, n)),
                None => Err(format!("`{name}` needs a whole number, 0 or more, found {}", shown(v))),
            },
            (Op::Between, Value::Array(bounds)) => match bounds.as_slice() {
                [Value::Number(lo), Value::Number(hi)] => match compare_numbers(lo, hi) {
                    Some(Ordering::Less | Ordering::Equal) => Ok(Test::Between(lo.clone(), hi.clone())),
                    _ => Err(format!("`between` needs `[lo, hi]` with lo <= hi, found `{value}`")),
                },
                _ => Err(format!("`between` needs two numbers `[lo, hi]`, found `{value}`")),
            },
            (Op::Between, other) => Err(format!("`between` needs two numbers `[lo, hi]`, found {}", article(other))),
        }
    }
}

/// What a string that is not an IP address is called in a `cidr` mismatch.
const NOT_AN_ADDRESS: &str = "string that is not an IP address";

/// A found operand for a message: scalars as written, containers by their type.
fn shown(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => format!("`{v}`"),
        other => article(other),
    }
}

/// Splits `args.a.b` into `["a", "b"]`.
pub(crate) fn parse_path(path: &str) -> Result<Vec<String>, String> {
    let Some(rest) = path.strip_prefix("args.") else {
        return Err(format!("`{path}` must start with `args.` (a dot path into the call arguments)"));
    };
    let segments: Vec<String> = rest.split('.').map(str::to_owned).collect();
    if segments.iter().any(String::is_empty) {
        return Err(format!("`{path}` has an empty segment"));
    }
    Ok(segments)
}

/// The value at `segments` below the call arguments (a numeric segment indexes an array).
pub(crate) fn lookup<'a>(args: &'a Map<String, Value>, segments: &[String]) -> Option<&'a Value> {
    let (first, rest) = segments.split_first()?;
    let mut current = args.get(first)?;
    for segment in rest {
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn truth(b: bool) -> Eval {
    if b { Eval::Holds } else { Eval::Fails }
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y) == Some(Ordering::Equal),
        (Value::Array(xs), Value::Array(ys)) => xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| json_eq(x, y)),
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len() && xs.iter().all(|(k, x)| ys.get(k).is_some_and(|y| json_eq(x, y)))
        }
        _ => a == b,
    }
}

/// Exact for integers, by `f64` otherwise.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// The JSON type of a value, as messages name it.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `a string`, `an array`, `null`.
pub(crate) fn article(v: &Value) -> String {
    with_article(kind(v))
}

fn with_article(kind: &str) -> String {
    match kind {
        "null" => "null".to_owned(),
        "array" | "object" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// A value for a message: strings bare, everything else as compact JSON.
fn render(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The one-line cause of a regex error (its display spans several lines).
fn regex_error(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.strip_prefix("error: "))
        .map(str::to_owned)
        .unwrap_or_else(|| text.lines().last().unwrap_or_default().trim().to_owned())
}

#[cfg(test)]
#[path = "predicate_tests.rs"]
mod tests;
