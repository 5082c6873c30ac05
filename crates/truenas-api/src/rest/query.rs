//! The query-string half of TrueNAS's REST rules: query filters and options as `?name=x&id__gt=5
//! &limit=10&offset=5&count=true&extra.k=v`, both ways, as `restful.py` (`_filterable_args`)
//! reads them; ids in paths; percent-encoding.
//!
//! The query string is used only when it gives back exactly the same params. TrueNAS turns
//! digit strings into numbers and `true`/`false`/`null` into JSON, so such string values, negative
//! or fractional numbers, list values (`in`), `OR`, `order_by`, `select` and `get` go in a JSON
//! body instead (`{"query-filters": .., "query-options": ..}`), which TrueNAS accepts on GET too.

use serde_json::{Map, Value, json};

use super::map::MapError;

/// Query-string operator suffixes (`id__gt=5`) and the filter operators they stand for.
const OPS: [(&str, &str); 7] =
    [("eq", "="), ("neq", "!="), ("gt", ">"), ("lt", "<"), ("gte", ">="), ("lte", "<="), ("regex", "~")];
/// Query-string keys that are options, not filters.
const OPTION_KEYS: [&str; 4] = ["limit", "offset", "count", "sort"];

/// Query string and body for a filterable method's `args` (leading params, filters, options).
pub(super) fn filterable(titles: &[&str], args: &[Value]) -> (Vec<(String, String)>, Option<Value>) {
    if args.is_empty() {
        return (Vec::new(), None);
    }
    if titles.len() == 2
        && let [filters, options] = args
        && let Some(query) = to_query(filters, options)
        && !query.is_empty()
    {
        return (query, None);
    }
    let keys = super::map::body_titles_of(titles);
    (Vec::new(), Some(Value::Object(keys.into_iter().zip(args.iter().cloned()).collect())))
}

/// The query string for `[filters, options]`, if it says exactly the same.
fn to_query(filters: &Value, options: &Value) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for filter in filters.as_array()? {
        let [field, op, value] = filter.as_array()?.as_slice() else { return None };
        let (field, op) = (field.as_str()?, op.as_str()?);
        let plain_field = !field.is_empty()
            && !field.contains("__")
            && !OPTION_KEYS.contains(&field)
            && !field.starts_with("extra.")
            && field != "download";
        if !plain_field {
            return None;
        }
        let key = match (op, OPS.iter().find(|(_, o)| *o == op)) {
            ("=", _) => field.to_string(),
            (_, Some((suffix, _))) => format!("{field}__{suffix}"),
            // TrueNAS passes other operators through, unless they read as one of the names.
            (raw, None) if !raw.is_empty() && !OPS.iter().any(|(s, _)| *s == raw) => format!("{field}__{raw}"),
            _ => return None,
        };
        out.push((key, scalar_text(value)?));
    }
    for (key, value) in options.as_object()? {
        match (key.as_str(), value) {
            ("limit" | "offset", Value::Number(n)) if n.is_u64() => out.push((key.clone(), n.to_string())),
            ("count", Value::Bool(b)) => out.push((key.clone(), b.to_string())),
            ("extra", Value::Object(extra)) => out.extend(extra_pairs(extra)),
            _ => return None,
        }
    }
    Some(out)
}

/// A filter value as query text, if TrueNAS reads it back as the same value.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if n.is_u64() => Some(n.to_string()),
        Value::String(s) => {
            let reads_as_other = (!s.is_empty() && s.chars().all(char::is_numeric))
                || ["true", "false", "null"].contains(&s.to_ascii_lowercase().as_str());
            (!reads_as_other).then(|| s.clone())
        }
        _ => None,
    }
}

fn extra_pairs(extra: &Map<String, Value>) -> Vec<(String, String)> {
    extra.iter().map(|(k, v)| (format!("extra.{k}"), v.to_string())).collect()
}

/// `?extra.k=v` pairs for `get_instance` options made only of a non-empty `extra`.
pub(super) fn extra_only(options: &Value) -> Option<Vec<(String, String)>> {
    let options = options.as_object()?;
    match options.get("extra") {
        Some(Value::Object(extra)) if options.len() == 1 && !extra.is_empty() => Some(extra_pairs(extra)),
        _ => None,
    }
}

/// `[filters, options]` from a query string, as TrueNAS reads it.
pub(super) fn filters_from_query(query: &[(String, String)]) -> Result<Vec<Value>, MapError> {
    let mut filters = Vec::new();
    let mut options = Map::new();
    for (key, value) in query {
        match key.as_str() {
            "limit" | "offset" | "count" => {
                options.insert(key.clone(), option_value(value));
            }
            // TrueNAS handed `sort` on as is; `order_by` is what query options call it.
            "sort" => {
                options.insert("order_by".into(), Value::Array(value.split(',').map(option_value).collect()));
            }
            _ if key.starts_with("extra.") => {}
            _ => {
                let (field, op) = key.split_once("__").unwrap_or((key.as_str(), "="));
                let op = OPS.iter().find(|(s, _)| *s == op).map(|(_, o)| *o).unwrap_or(op);
                filters.push(json!([field, op, filter_value(value)]));
            }
        }
    }
    let extra = extra_from_query(query)?;
    if !extra.is_empty() {
        options.insert("extra".into(), Value::Object(extra));
    }
    Ok(vec![Value::Array(filters), Value::Object(options)])
}

/// The `extra.*` pairs of a query string; each value is JSON, or text when it is not.
pub(super) fn extra_from_query(query: &[(String, String)]) -> Result<Map<String, Value>, MapError> {
    Ok(query
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("extra.")?;
            Some((name.to_string(), serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.clone()))))
        })
        .collect())
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.chars().all(char::is_numeric)
}

fn option_value(text: &str) -> Value {
    if is_digits(text) {
        return text.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string()));
    }
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" => Value::Bool(true),
        "false" | "0" => Value::Bool(false),
        _ => Value::String(text.to_string()),
    }
}

fn filter_value(text: &str) -> Value {
    if is_digits(text) {
        return text.parse::<u64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string()));
    }
    match text.to_ascii_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => Value::String(text.to_string()),
    }
}

/// An id as a path segment: a number's digits, or percent-encoded text.
pub(super) fn id_text(id: &Value) -> Option<String> {
    match id {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(encode(s)),
        _ => None,
    }
}

/// An id segment as the method's first param wants it: a number where the schema allows
/// integers and the text is one, else text.
pub(super) fn typed_id(text: &str, schema: Option<&Value>) -> Value {
    let allows_integer = schema.is_some_and(|s| {
        let types: Vec<&Value> = match s.get("anyOf").and_then(Value::as_array) {
            Some(options) => options.iter().filter_map(|o| o.get("type")).collect(),
            None => s.get("type").into_iter().collect(),
        };
        types.iter().any(|t| *t == "integer" || t.as_array().is_some_and(|a| a.iter().any(|x| x == "integer")))
    });
    match text.parse::<i64>() {
        Ok(n) if allows_integer => Value::from(n),
        _ => Value::String(text.to_string()),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(super) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
