//! The raw escape hatch (`truenas_api_call`) speaks the REST vocabulary of the server we
//! replace (`GET /pool/dataset`, `POST /vm/id/3/start`). This turns such a request into the
//! middleware method and positional params it stands for, following TrueNAS's own REST-to-method
//! rules, so that the call can be checked by policy *on that method* like any other call.
//!
//! Paths are parsed, never concatenated: `..`, `.`, empty segments and odd characters are
//! refused, and the id segment is only ever a value, so nothing can traverse to another method.

use serde_json::{Map, Value, json};

use crate::schema::MethodTable;

/// A raw request, as the agent wrote it.
#[derive(Debug, Clone, Copy)]
pub struct RestRequest<'a> {
    /// GET, POST, PUT or DELETE.
    pub verb: &'a str,
    /// The path, e.g. `/pool/dataset/id/tank%2Fmedia`; a leading `/api/v2.0` is accepted.
    pub path: &'a str,
    /// The body, already parsed.
    pub body: Option<&'a Value>,
}

/// Why a raw request does not name a method.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// The path breaks the rules.
    #[error("path `{path}` is not allowed: {why}")]
    BadPath {
        /// The path given.
        path: String,
        /// Which rule.
        why: &'static str,
    },
    /// No middleware method answers this request.
    #[error("no TrueNAS method answers `{verb} {path}`")]
    NoMethod {
        /// The verb given.
        verb: String,
        /// The path given.
        path: String,
    },
    /// The body does not fit the method's params.
    #[error("body for `{method}`: {why}")]
    Body {
        /// The method resolved.
        method: String,
        /// What is wrong.
        why: String,
    },
}

/// Resolves a raw request to a method and its positional params, using `table` to tell
/// services, config services and plain methods apart.
pub fn resolve(request: RestRequest<'_>, table: &MethodTable) -> Result<(String, Value), RestError> {
    let verb = request.verb.to_ascii_uppercase();
    let (segments, query) = split(request.path)?;
    let no_method = || RestError::NoMethod { verb: verb.clone(), path: request.path.to_string() };
    let has = |m: &str| table.method(m).is_some();

    // `svc/id/<id>[/<verb>]`: an item of a CRUD service.
    if let Some(at) = segments.iter().position(|s| s == "id").filter(|at| *at > 0) {
        let service = segments[..at].join(".");
        let id = segments.get(at + 1).ok_or_else(no_method)?;
        let id = id_value(id);
        let item_method = match (verb.as_str(), &segments[at + 2..]) {
            ("GET", []) => format!("{service}.get_instance"),
            ("PUT", []) => format!("{service}.update"),
            ("DELETE", []) => format!("{service}.delete"),
            ("POST" | "GET", [name]) => format!("{service}.{name}"),
            _ => return Err(no_method()),
        };
        if !has(&item_method) {
            return Err(no_method());
        }
        let mut params = vec![id];
        match request.body {
            Some(Value::Array(rest)) if verb != "PUT" => params.extend(rest.iter().cloned()),
            Some(body) => params.push(body.clone()),
            None => {}
        }
        return Ok((item_method, Value::Array(params)));
    }

    let service = segments.join(".");
    let (method, params) = match verb.as_str() {
        "GET" if has(&format!("{service}.query")) => (format!("{service}.query"), query_params(&query)?),
        "GET" if has(&format!("{service}.config")) => (format!("{service}.config"), json!([])),
        "POST" if has(&format!("{service}.create")) => {
            (format!("{service}.create"), json!([request.body.cloned().unwrap_or_else(|| json!({}))]))
        }
        "PUT" if has(&format!("{service}.update")) && has(&format!("{service}.config")) => {
            (format!("{service}.update"), json!([request.body.cloned().unwrap_or_else(|| json!({}))]))
        }
        "GET" | "POST" if has(&service) => {
            let spec = table.method(&service).ok_or_else(no_method)?;
            let params = body_params(&service, &spec.param_names(), request.body)?;
            (service, params)
        }
        _ => return Err(no_method()),
    };
    Ok((method, params))
}

/// A path cut into checked segments, and its query string as (key, value) pairs.
pub(crate) type SplitPath = (Vec<String>, Vec<(String, String)>);

/// Splits a path into checked segments and its query string pairs.
pub fn split(path: &str) -> Result<SplitPath, RestError> {
    let bad = |why| RestError::BadPath { path: path.to_string(), why };
    let (path_part, query) = match path.split_once('?') {
        Some((p, q)) => (p, q),
        None => (path, ""),
    };
    let trimmed = path_part.trim_start_matches('/');
    let trimmed = trimmed.strip_prefix("api/v2.0").map(|t| t.trim_start_matches('/')).unwrap_or(trimmed);
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    if trimmed.is_empty() {
        return Err(bad("it names no service"));
    }
    let mut segments = Vec::new();
    for (i, raw) in trimmed.split('/').enumerate() {
        let after_id = i > 0 && segments.last().is_some_and(|s: &String| s == "id");
        if raw.is_empty() {
            return Err(bad("empty segment"));
        }
        let decoded = percent_decode(raw).ok_or_else(|| bad("bad percent-encoding"))?;
        if decoded == "." || decoded == ".." || decoded.split('/').any(|part| part == "..") {
            return Err(bad("`.` and `..` are not allowed"));
        }
        // Only the id may hold anything (a dataset name with `/`); every other segment is a name.
        if !after_id && !decoded.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(bad("service and method segments use letters, digits and `_`"));
        }
        segments.push(decoded);
    }
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k).ok_or_else(|| bad("bad percent-encoding"))?;
        let v = percent_decode(v).ok_or_else(|| bad("bad percent-encoding"))?;
        pairs.push((k, v));
    }
    Ok((segments, pairs))
}

/// `?limit=10&offset=5&sort=-name&name=tank` becomes query filters and options.
fn query_params(query: &[(String, String)]) -> Result<Value, RestError> {
    let mut filters = Vec::new();
    let mut options = Map::new();
    for (key, value) in query {
        match key.as_str() {
            "limit" | "offset" => {
                let n: u64 = value.parse().map_err(|_| RestError::BadPath {
                    path: format!("?{key}={value}"),
                    why: "limit and offset are whole numbers",
                })?;
                options.insert(key.clone(), json!(n));
            }
            "sort" => {
                options.insert("order_by".into(), json!(value.split(',').collect::<Vec<_>>()));
            }
            field => filters.push(json!([field, "=", scalar(value)])),
        }
    }
    Ok(json!([filters, options]))
}

/// Turns a body into positional params: an array is the params as they are; an object is
/// the one param of a one-param method, or keyed by param name as TrueNAS's REST layer did.
fn body_params(method: &str, names: &[&str], body: Option<&Value>) -> Result<Value, RestError> {
    let why = |why: String| RestError::Body { method: method.to_string(), why };
    match body {
        None | Some(Value::Null) => Ok(json!([])),
        Some(Value::Array(items)) => Ok(Value::Array(items.clone())),
        Some(object @ Value::Object(map)) => {
            if names.len() == 1 {
                return Ok(json!([object]));
            }
            if let Some(unknown) = map.keys().find(|k| !names.contains(&k.as_str())) {
                return Err(why(format!("`{unknown}` is not a param; the params are: {}", names.join(", "))));
            }
            // Positions up to the last one given; earlier gaps become null for TrueNAS to refuse.
            let last = names.iter().rposition(|n| map.contains_key(*n)).map(|i| i + 1).unwrap_or(0);
            Ok(Value::Array(names[..last].iter().map(|n| map.get(*n).cloned().unwrap_or(Value::Null)).collect()))
        }
        Some(other) if names.len() == 1 => Ok(json!([other])),
        Some(_) => Err(why(format!("give an object keyed by param ({}) or an array", names.join(", ")))),
    }
}

/// An id segment: a number when it is one, else text (`tank/media`, an app name).
fn id_value(id: &str) -> Value {
    id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(id.to_string()))
}

fn scalar(text: &str) -> Value {
    match text {
        "true" => json!(true),
        "false" => json!(false),
        _ => text.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::String(text.to_string())),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[path = "lenient_tests.rs"]
mod tests;
