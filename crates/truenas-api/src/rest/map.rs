//! TrueNAS's REST rules (`/api/v2.0`, middleware `restful.py`) as one table used in both
//! directions: [`to_http`] turns a middleware method and its positional params into the HTTP
//! request TrueNAS routes to that call (our REST client), and [`from_http`] turns such a request
//! back into the method and params (the simulated NAS). A round trip gives back the same call.
//!
//! The rules, for a method `svc.name`:
//! - CRUD services (`svc.query` exists): `GET /svc` is `query`, `POST /svc` is `create`,
//!   `GET|PUT|DELETE /svc/id/{id}` are `get_instance`, `update` and `delete`.
//! - Config services (`svc.config` exists): `GET /svc` is `config`, `PUT /svc` is `update`.
//! - Item methods (`@item_method` in the middleware): `POST /svc/id/{id}/name`, the id first.
//! - Filterable methods (last two params are filters and options): `GET /svc/name`, simple
//!   filters and `limit`/`offset`/`count`/`extra.*` in the query string; anything else (`OR`,
//!   lists, `order_by`, `select`, `get`, leading params) as a JSON body keyed by param title,
//!   which TrueNAS also accepts on GET.
//! - Other methods: `POST /svc/name`, or `GET` when the method takes no params.
//!
//! Bodies: no params, no body; one param (after the id of an item), the body *is* that param;
//! several, an object keyed by param title. Ids with `/` are percent-encoded.

use serde_json::{Map, Value, json};

use super::lenient;
use super::query::{encode, extra_from_query, extra_only, filterable, filters_from_query, id_text, typed_id};
use crate::schema::MethodTable;

/// Methods TrueNAS marks `@item_method` (as of 24.10), among those the tool set calls. CRUD
/// `update`/`delete` are item routes by the service rules and are not listed.
pub(crate) const ITEM_METHODS: &[&str] = &[
    "pool.attachments",
    "pool.dataset.attachments",
    "pool.dataset.get_quota",
    "pool.dataset.set_quota",
    "pool.export",
    "pool.get_disks",
    "pool.replace",
    "pool.scrub",
    "pool.snapshottask.run",
    "vm.clone",
    "vm.restart",
    "vm.start",
    "vm.status",
    "vm.stop",
];

/// The HTTP verbs TrueNAS's REST layer routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// Reads: queries, configs, instances.
    Get,
    /// Creates and other methods.
    Post,
    /// Updates.
    Put,
    /// Deletes.
    Delete,
}

impl Verb {
    /// The verb as HTTP spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Delete => "DELETE",
        }
    }
}

/// One REST request, relative to `/api/v2.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    /// The verb.
    pub verb: Verb,
    /// Percent-encoded path, e.g. `/pool/dataset/id/tank%2Fmedia`.
    pub path: String,
    /// Query string pairs, not yet encoded.
    pub query: Vec<(String, String)>,
    /// The JSON body; `None` sends none (which TrueNAS reads as "no params").
    pub body: Option<Value>,
}

impl HttpCall {
    /// The path and encoded query string, e.g. `/vm?name=x&limit=5`.
    pub fn path_and_query(&self) -> String {
        if self.query.is_empty() {
            return self.path.clone();
        }
        let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("{}?{}", self.path, pairs.join("&"))
    }
}

/// Why a call and a REST request do not map onto each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The call has no REST form (our side).
    #[error("`{method}` cannot be called over TrueNAS's REST API: {why}")]
    Unsupported {
        /// The method.
        method: String,
        /// Why it has none.
        why: String,
    },
    /// No method answers this verb and path (404 on the NAS).
    #[error("no method answers `{verb} {path}`")]
    NoRoute {
        /// The verb given.
        verb: String,
        /// The path given.
        path: String,
    },
    /// The request names a method but its body or query does not fit (400 on the NAS).
    #[error("{0}")]
    BadRequest(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Crud,
    Config,
    Plain,
}

/// A service with `config` is a config service (even with a `query` of its own, as `audit`);
/// one with `query` is CRUD.
fn kind(service: &str, table: &MethodTable) -> Kind {
    if table.method(&format!("{service}.config")).is_some() {
        Kind::Config
    } else if table.method(&format!("{service}.query")).is_some() {
        Kind::Crud
    } else {
        Kind::Plain
    }
}

/// The title pairs a filterable method ends with, and the names REST bodies use for them.
const FILTER_TITLES: [(&str, &str); 3] =
    [("filters", "options"), ("query_filters", "query_options"), ("query-filters", "query-options")];
const REST_FILTERS: &str = "query-filters";
const REST_OPTIONS: &str = "query-options";

fn is_filterable(titles: &[&str]) -> bool {
    let n = titles.len();
    n >= 2 && FILTER_TITLES.iter().any(|(f, o)| titles[n - 2] == *f && titles[n - 1] == *o)
}

/// Titles as REST bodies spell them: the filter pair of a filterable method as `query-filters`
/// and `query-options`, which every REST release accepts.
pub(super) fn body_titles_of(titles: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = titles.iter().map(|t| t.to_string()).collect();
    if is_filterable(titles) {
        let n = out.len();
        out[n - 2] = REST_FILTERS.into();
        out[n - 1] = REST_OPTIONS.into();
    }
    out
}

/// The REST request TrueNAS routes to `method(params)`.
pub fn to_http(method: &str, params: &Value, table: &MethodTable) -> Result<HttpCall, MapError> {
    let unsupported = |why: &str| MapError::Unsupported { method: method.to_string(), why: why.to_string() };
    let spec = table.method(method).ok_or_else(|| unsupported("the connected release has no such method"))?;
    let args: &[Value] = match params {
        Value::Array(items) => items,
        Value::Null => &[],
        _ => return Err(unsupported("params must be an array")),
    };
    let titles = spec.param_names();
    if args.len() > titles.len() {
        return Err(unsupported("more params than the method takes"));
    }
    let (service, name) = method.rsplit_once('.').ok_or_else(|| unsupported("no service in the method name"))?;
    let base = format!("/{}", service.replace('.', "/"));
    let call = |verb, path: String, query, body| Ok(HttpCall { verb, path, query, body });
    let item_path = |suffix: &str| -> Result<String, MapError> {
        let id = args.first().ok_or_else(|| unsupported("an item method needs the id"))?;
        Ok(format!("{base}/id/{}{suffix}", id_text(id).ok_or_else(|| unsupported("the id must be text or a number"))?))
    };
    let rest_body =
        || body_for(&body_titles_of(titles.get(1..).unwrap_or_default()), args.get(1..).unwrap_or_default());
    match (kind(service, table), name) {
        (Kind::Crud, "query") if is_filterable(&titles) => {
            let (query, body) = filterable(&titles, args);
            call(Verb::Get, base, query, body)
        }
        (Kind::Crud, "create") => call(Verb::Post, base, vec![], body_for(&body_titles_of(&titles), args)),
        (Kind::Crud, "get_instance") => match args.get(1).map(|o| (o, extra_only(o))) {
            None => call(Verb::Get, item_path("")?, vec![], None),
            Some((_, Some(extra))) => call(Verb::Get, item_path("")?, extra, None),
            // REST reads an item as a query for its id with `get`; other options need the query.
            Some((options, None)) => {
                let mut options =
                    options.as_object().cloned().ok_or_else(|| unsupported("options must be an object"))?;
                options.insert("get".into(), Value::Bool(true));
                let id = args.first().cloned().unwrap_or(Value::Null);
                let body = json!({REST_FILTERS: [["id", "=", id]], REST_OPTIONS: options});
                call(Verb::Get, base, vec![], Some(body))
            }
        },
        (Kind::Crud, "update") => call(Verb::Put, item_path("")?, vec![], rest_body()),
        (Kind::Crud, "delete") => call(Verb::Delete, item_path("")?, vec![], rest_body()),
        (Kind::Config, "config") => call(Verb::Get, base, vec![], body_for(&body_titles_of(&titles), args)),
        (Kind::Config, "update") => call(Verb::Put, base, vec![], body_for(&body_titles_of(&titles), args)),
        _ if ITEM_METHODS.contains(&method) => call(Verb::Post, item_path(&format!("/{name}"))?, vec![], rest_body()),
        _ if is_filterable(&titles) => {
            let (query, body) = filterable(&titles, args);
            call(Verb::Get, format!("{base}/{name}"), query, body)
        }
        _ => {
            let verb = if titles.is_empty() { Verb::Get } else { Verb::Post };
            call(verb, format!("{base}/{name}"), vec![], body_for(&body_titles_of(&titles), args))
        }
    }
}

/// The method and positional params TrueNAS calls for a REST request. `path` is relative to
/// `/api/v2.0` (a leading `/api/v2.0` is accepted) and may carry its query string.
pub fn from_http(
    verb: &str,
    path: &str,
    body: Option<&Value>,
    table: &MethodTable,
) -> Result<(String, Value), MapError> {
    let no_route = || MapError::NoRoute { verb: verb.to_string(), path: path.to_string() };
    let (segments, query) = lenient::split(path).map_err(|e| MapError::BadRequest(e.to_string()))?;
    let verb = verb.to_ascii_uppercase();
    let titles_of = |m: &str| table.method(m).map(|s| s.param_names());

    if let Some(at) = segments.iter().position(|s| s == "id").filter(|at| *at > 0) {
        let service = segments[..at].join(".");
        let id = segments.get(at + 1).ok_or_else(no_route)?;
        let method = match (verb.as_str(), segments.get(at + 2..).unwrap_or_default()) {
            ("GET", []) => format!("{service}.get_instance"),
            ("PUT", []) => format!("{service}.update"),
            ("DELETE", []) => format!("{service}.delete"),
            ("POST", [name]) if ITEM_METHODS.contains(&format!("{service}.{name}").as_str()) => {
                format!("{service}.{name}")
            }
            _ => return Err(no_route()),
        };
        if segments.len() == at + 2 && kind(&service, table) != Kind::Crud {
            return Err(no_route());
        }
        let spec = table.method(&method).ok_or_else(no_route)?;
        let titles = spec.param_names();
        let mut params = vec![typed_id(id, spec.params.pointer("/prefixItems/0"))];
        if verb == "GET" {
            let extra = extra_from_query(&query)?;
            if !extra.is_empty() {
                params.push(json!({"extra": extra}));
            }
        } else {
            params.extend(args_from_body(&body_titles_of(titles.get(1..).unwrap_or_default()), body)?);
        }
        return Ok((method, Value::Array(params)));
    }

    let service = segments.join(".");
    let (method, titles) = match (verb.as_str(), kind(&service, table)) {
        ("GET", Kind::Crud) => (format!("{service}.query"), None),
        ("POST", Kind::Crud) => (format!("{service}.create"), None),
        ("GET", Kind::Config) => (format!("{service}.config"), None),
        ("PUT", Kind::Config) => (format!("{service}.update"), None),
        (_, _) => {
            let titles = titles_of(&service).ok_or_else(no_route)?;
            let (parent, name) = service.rsplit_once('.').ok_or_else(no_route)?;
            let builtin = match kind(parent, table) {
                Kind::Crud => ["query", "create", "get_instance", "update", "delete"].contains(&name),
                Kind::Config => ["config", "update"].contains(&name),
                Kind::Plain => false,
            };
            let expected = if is_filterable(&titles) || titles.is_empty() { "GET" } else { "POST" };
            if builtin || ITEM_METHODS.contains(&service.as_str()) || verb != expected {
                return Err(no_route());
            }
            (service.clone(), Some(titles))
        }
    };
    let titles = match titles {
        Some(t) => t,
        None => titles_of(&method).ok_or_else(no_route)?,
    };
    let params = if is_filterable(&titles) && !query.is_empty() {
        filters_from_query(&query)?
    } else {
        args_from_body(&body_titles_of(&titles), body)?
    };
    Ok((method, Value::Array(params)))
}

/// The call a NAS runs for `method(params)` sent over REST: the same, except that reading an
/// item with query options other than `extra` is the query REST stands for.
pub fn same_over_rest(method: &str, params: &Value) -> (String, Value) {
    match (method.strip_suffix(".get_instance"), params.as_array().map(Vec::as_slice)) {
        (Some(service), Some([id, Value::Object(options)]))
            if !(options.len() == 1
                && options.get("extra").is_some_and(|e| e.as_object().is_some_and(|e| !e.is_empty()))) =>
        {
            let mut options = options.clone();
            options.insert("get".into(), Value::Bool(true));
            (format!("{service}.query"), json!([[["id", "=", id]], options]))
        }
        _ => (method.to_string(), params.clone()),
    }
}

/// The body for `args` under `titles`: none, the one param itself, or an object keyed by title.
fn body_for(titles: &[String], args: &[Value]) -> Option<Value> {
    match (titles.len(), args) {
        (_, []) => None,
        (1, [only]) => Some(only.clone()),
        _ => Some(Value::Object(titles.iter().cloned().zip(args.iter().cloned()).collect())),
    }
}

/// The positional params a body stands for under `titles` (the inverse of [`body_for`]).
fn args_from_body(titles: &[String], body: Option<&Value>) -> Result<Vec<Value>, MapError> {
    let Some(body) = body else { return Ok(Vec::new()) };
    match titles.len() {
        0 if body.as_object().is_some_and(Map::is_empty) => Ok(Vec::new()),
        0 => Err(MapError::BadRequest("this method takes no params".into())),
        1 => Ok(vec![body.clone()]),
        _ => {
            let map = body.as_object().ok_or_else(|| {
                MapError::BadRequest("Endpoint accepts multiple params, object/dict expected.".into())
            })?;
            // TrueNAS renamed `query-filters`/`query-options` to `filters`/`options`; accept both.
            let lookup = |title: &str| {
                map.get(title).or_else(|| match title {
                    REST_FILTERS => map.get("filters").or_else(|| map.get("query_filters")),
                    REST_OPTIONS => map.get("options").or_else(|| map.get("query_options")),
                    _ => None,
                })
            };
            let unexpected: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| {
                    !titles.iter().any(|t| t == k)
                        && !["filters", "options", "query_filters", "query_options"].contains(k)
                })
                .collect();
            if !unexpected.is_empty() {
                return Err(MapError::BadRequest(format!(
                    "The following attributes are not expected: {}",
                    unexpected.join(", ")
                )));
            }
            let last = titles.iter().rposition(|t| lookup(t).is_some()).map(|i| i + 1).unwrap_or(0);
            titles[..last]
                .iter()
                .map(|t| lookup(t).cloned().ok_or_else(|| MapError::BadRequest(format!("{t} attribute expected."))))
                .collect()
        }
    }
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
