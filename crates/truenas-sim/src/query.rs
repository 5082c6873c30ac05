//! The query engine behind every `*.query` method (and `core.get_jobs`): TrueNAS's filters
//! (`[field, op, value]`, `["OR", [...]]`, dotted paths, the `C` case-insensitive prefix) and
//! options (`get`, `count`, `limit`, `offset`, `order_by`, `select`) over plain JSON rows.
//!
//! Generic on purpose: a domain hands over its rows as JSON objects and gets back the list,
//! the single object or the count the middleware would return.

use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Value};

use super::failure::Failure;

/// One parsed filter.
#[derive(Debug, Clone)]
enum Filter {
    Cond {
        path: Vec<String>,
        op: Op,
        fold_case: bool,
        value: Value,
    },
    /// Any alternative matches; each alternative is a conjunction.
    Or(Vec<Vec<Filter>>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Regex,
    In,
    NotIn,
    RevIn,
    RevNotIn,
    Starts,
    NotStarts,
    Ends,
    NotEnds,
}

impl Op {
    fn parse(text: &str) -> Option<(Op, bool)> {
        let (fold_case, bare) = match text.strip_prefix('C') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let op = match bare {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            "~" => Op::Regex,
            "in" => Op::In,
            "nin" => Op::NotIn,
            "rin" => Op::RevIn,
            "rnin" => Op::RevNotIn,
            "^" => Op::Starts,
            "!^" => Op::NotStarts,
            "$" => Op::Ends,
            "!$" => Op::NotEnds,
            _ => return None,
        };
        Some((op, fold_case))
    }
}

/// Parsed query options.
#[derive(Debug, Default)]
struct Options {
    get: bool,
    count: bool,
    offset: usize,
    limit: usize,
    order_by: Vec<String>,
    select: Vec<Value>,
}

/// Runs `filters` and `options` (the two positional params of a query method) over `rows`.
pub(crate) fn run(rows: Vec<Value>, filters: &Value, options: &Value) -> Result<Value, Failure> {
    let filters = parse_filters(filters)?;
    let options = parse_options(options)?;
    let mut rows: Vec<Value> = rows.into_iter().filter(|row| matches_all(row, &filters)).collect();
    if options.count {
        return Ok(Value::from(rows.len()));
    }
    order(&mut rows, &options.order_by);
    let rows = rows.into_iter().skip(options.offset);
    let rows: Vec<Value> = if options.limit > 0 { rows.take(options.limit).collect() } else { rows.collect() };
    let rows: Vec<Value> =
        if options.select.is_empty() { rows } else { rows.iter().map(|r| select(r, &options.select)).collect() };
    if options.get {
        return rows.into_iter().next().ok_or_else(match_not_found);
    }
    Ok(Value::Array(rows))
}

/// What `filter_list` raises when `get` finds nothing.
pub(crate) fn match_not_found() -> Failure {
    Failure::Exception { class: "MatchNotFound", reason: "MatchNotFound()".to_string() }
}

fn bad_filter(reason: String) -> Failure {
    Failure::Exception { class: "ValueError", reason }
}

fn parse_filters(filters: &Value) -> Result<Vec<Filter>, Failure> {
    match filters {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(parse_filter).collect(),
        other => Err(bad_filter(format!("Filters must be a list: {other}"))),
    }
}

fn parse_filter(item: &Value) -> Result<Filter, Failure> {
    let parts = item.as_array().ok_or_else(|| bad_filter(format!("Filter must be a list: {item}")))?;
    match parts.as_slice() {
        [Value::String(or), Value::Array(alternatives)] if or == "OR" => {
            alternatives.iter().map(parse_alternative).collect::<Result<_, _>>().map(Filter::Or)
        }
        [Value::String(field), Value::String(op), value] => {
            let (op, fold_case) = Op::parse(op).ok_or_else(|| bad_filter(format!("Invalid operation: {op}")))?;
            if op == Op::Regex && !value.is_string() {
                return Err(bad_filter(format!("Regex pattern must be a string: {value}")));
            }
            Ok(Filter::Cond { path: split_path(field), op, fold_case, value: value.clone() })
        }
        _ => Err(bad_filter(format!("Invalid filter {item}"))),
    }
}

/// An alternative of an `OR` is a single filter or a list of filters.
fn parse_alternative(alt: &Value) -> Result<Vec<Filter>, Failure> {
    match alt.as_array().and_then(|a| a.first()) {
        Some(Value::String(_)) => Ok(vec![parse_filter(alt)?]),
        _ => parse_filters(alt),
    }
}

/// Splits `a.b.c` on dots, honouring `\.` as a literal dot.
fn split_path(field: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                chars.next();
                push_char(&mut parts, '.');
            }
            '.' => parts.push(String::new()),
            c => push_char(&mut parts, c),
        }
    }
    parts
}

fn push_char(parts: &mut [String], c: char) {
    if let Some(last) = parts.last_mut() {
        last.push(c);
    }
}

fn lookup<'a>(row: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(row, |current, key| match current {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn matches_all(row: &Value, filters: &[Filter]) -> bool {
    filters.iter().all(|f| matches(row, f))
}

fn matches(row: &Value, filter: &Filter) -> bool {
    match filter {
        Filter::Or(alternatives) => alternatives.iter().any(|alt| matches_all(row, alt)),
        Filter::Cond { path, op, fold_case, value } => {
            let field = lookup(row, path).cloned().unwrap_or(Value::Null);
            let (field, value) = if *fold_case { (fold(&field), fold(value)) } else { (field, value.clone()) };
            apply(*op, &field, &value)
        }
    }
}

fn fold(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.to_lowercase()),
        Value::Array(items) => Value::Array(items.iter().map(fold).collect()),
        other => other.clone(),
    }
}

fn apply(op: Op, field: &Value, value: &Value) -> bool {
    match op {
        Op::Eq => equal(field, value),
        Op::Ne => !equal(field, value),
        Op::Gt => compare(field, value) == Some(Ordering::Greater),
        Op::Ge => matches!(compare(field, value), Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => compare(field, value) == Some(Ordering::Less),
        Op::Le => matches!(compare(field, value), Some(Ordering::Less | Ordering::Equal)),
        // Python's `re.match`: anchored at the start, not the end.
        Op::Regex => match (field.as_str(), value.as_str()) {
            (Some(text), Some(pattern)) => Regex::new(&format!("^(?:{pattern})")).is_ok_and(|re| re.is_match(text)),
            _ => false,
        },
        Op::In => contains(value, field),
        Op::NotIn => !contains(value, field),
        Op::RevIn => !field.is_null() && contains(field, value),
        Op::RevNotIn => !field.is_null() && !contains(field, value),
        Op::Starts => str_pair(field, value).is_some_and(|(f, v)| f.starts_with(v)),
        Op::NotStarts => str_pair(field, value).is_some_and(|(f, v)| !f.starts_with(v)),
        Op::Ends => str_pair(field, value).is_some_and(|(f, v)| f.ends_with(v)),
        Op::NotEnds => str_pair(field, value).is_some_and(|(f, v)| !f.ends_with(v)),
    }
}

fn str_pair<'a>(field: &'a Value, value: &'a Value) -> Option<(&'a str, &'a str)> {
    Some((field.as_str()?, value.as_str()?))
}

/// Python's `needle in haystack` for a list or a string haystack.
fn contains(haystack: &Value, needle: &Value) -> bool {
    match haystack {
        Value::Array(items) => items.iter().any(|i| equal(i, needle)),
        Value::String(s) => needle.as_str().is_some_and(|n| s.contains(n)),
        Value::Object(map) => needle.as_str().is_some_and(|n| map.contains_key(n)),
        _ => false,
    }
}

/// Equality where `1 == 1.0`, as in Python.
fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

/// Ordering between comparable values; `None` where Python would raise `TypeError`.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn parse_options(options: &Value) -> Result<Options, Failure> {
    let map = match options {
        Value::Null => return Ok(Options::default()),
        Value::Object(map) => map,
        other => return Err(bad_filter(format!("Options must be an object: {other}"))),
    };
    let flag = |key: &str| map.get(key).and_then(Value::as_bool).unwrap_or(false);
    let number = |key: &str| map.get(key).and_then(Value::as_u64).map(|n| n as usize).unwrap_or(0);
    let order_by = match map.get("order_by") {
        Some(Value::Array(keys)) => keys.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let select = match map.get("select") {
        Some(Value::Array(items)) => items.clone(),
        _ => Vec::new(),
    };
    Ok(Options {
        get: flag("get"),
        count: flag("count"),
        offset: number("offset"),
        limit: number("limit"),
        order_by,
        select,
    })
}

/// Sorts by each key in turn (`-key` descending, `nulls_first:`/`nulls_last:` prefixes).
fn order(rows: &mut [Value], keys: &[String]) {
    for key in keys.iter().rev() {
        let (nulls_first, key) = match (key.strip_prefix("nulls_first:"), key.strip_prefix("nulls_last:")) {
            (Some(rest), _) => (Some(true), rest),
            (_, Some(rest)) => (Some(false), rest),
            _ => (None, key.as_str()),
        };
        let (descending, key) = match key.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, key),
        };
        let path = split_path(key);
        let nulls_first = nulls_first.unwrap_or(descending);
        rows.sort_by(|a, b| {
            let x = lookup(a, &path).unwrap_or(&Value::Null);
            let y = lookup(b, &path).unwrap_or(&Value::Null);
            match (x.is_null(), y.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => {
                    if nulls_first {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if nulls_first {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (false, false) => {
                    let ord = sort_key(x, y);
                    if descending { ord.reverse() } else { ord }
                }
            }
        });
    }
}

/// A total order for sorting: comparable values by value, others by type.
fn sort_key(a: &Value, b: &Value) -> Ordering {
    compare(a, b).unwrap_or_else(|| type_rank(a).cmp(&type_rank(b)))
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Keeps only the selected fields: `"a.b"` keeps the nested key, `["a.b", "alias"]` renames.
fn select(row: &Value, fields: &[Value]) -> Value {
    let mut out = Map::new();
    for field in fields {
        let (path, alias) = match field {
            Value::String(path) => (split_path(path), None),
            Value::Array(pair) => match (pair.first().and_then(Value::as_str), pair.get(1).and_then(Value::as_str)) {
                (Some(path), Some(alias)) => (split_path(path), Some(alias.to_string())),
                _ => continue,
            },
            _ => continue,
        };
        let Some(value) = lookup(row, &path) else { continue };
        match alias {
            Some(alias) => {
                out.insert(alias, value.clone());
            }
            None => insert_path(&mut out, &path, value.clone()),
        }
    }
    Value::Object(out)
}

fn insert_path(out: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            out.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = out.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

#[cfg(test)]
#[path = "query_tests.rs"]
mod tests;
