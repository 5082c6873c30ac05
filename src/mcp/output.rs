//! The structured side of flat tools: each declares an `outputSchema` derived from the result
//! TrueNAS's API dump declares for the method the action calls (on the release the listing was
//! made for), and each result carries `structuredContent` checked against it before it is sent.
//!
//! MCP wants an object at the root of both, and most TrueNAS results are lists, booleans,
//! strings or a query's list-or-item-or-count, so the result is always wrapped:
//! `{"type": "object", "properties": {"result": <TrueNAS's structure>}}` (the Python SDK wraps
//! non-object results the same way). `result` is not required: `structuredContent` carries it
//! only when the whole result was sent and validates against the declared structure; otherwise
//! (a result cut to the text limit, a job that outlived the wait and answered with its handle, a
//! secret masked in a typed field, a NAS answering outside TrueNAS's own schema) it is `{}` and
//! the text content alone carries the result. Either way a validating client never sees a
//! violation. Methods declared to return only `null`, actions without a declared result (no
//! dump: 24.04, 24.10; 25.04 methods its partial dump lacks) and the raw `truenas_api_call`
//! declare no `outputSchema` and send no `structuredContent`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::model::JsonObject;
use serde_json::{Map, Value, json};

use crate::catalog::ActionDef;
use crate::ids::MethodName;
use crate::nas::CallOutcome;
use crate::schema::Release;
use crate::schema::returns::ReturnsTable;

type Key = (Release, MethodName);

/// Output schemas and their validators, built on first use and shared by every session.
#[derive(Default)]
pub(crate) struct Outputs {
    schemas: Mutex<HashMap<Key, Option<Arc<JsonObject>>>>,
    // A schema the validator cannot compile has no entry; its results carry no `result`.
    validators: Mutex<HashMap<Key, Option<Arc<jsonschema::Validator>>>>,
}

impl Outputs {
    /// The `outputSchema` of `action`'s flat tool for a listing made for `release`.
    pub(crate) fn schema(&self, action: &ActionDef, release: Release) -> Option<Arc<JsonObject>> {
        let method = routed(action, release)?;
        let mut schemas = self.schemas.lock().unwrap_or_else(|p| p.into_inner());
        let key = (release, method.clone());
        schemas.entry(key).or_insert_with(|| wrap(release, &method).map(Arc::new)).clone()
    }

    /// The `structuredContent` of a successful call of `action` whose session was shown the
    /// listing for `release`; `whole` says whether the text content holds the whole result.
    /// `None` when the tool declares no `outputSchema`. The result moves into it (no copy).
    pub(crate) fn structured(
        &self,
        action: &ActionDef,
        release: Release,
        outcome: CallOutcome,
        whole: bool,
    ) -> Option<Value> {
        let schema = self.schema(action, release)?;
        let empty = Value::Object(Map::new());
        if outcome.still_running || !whole {
            return Some(empty);
        }
        let Some(validator) = self.validator(action, release, &schema) else { return Some(empty) };
        let mut wrapped = Map::new();
        wrapped.insert(RESULT.to_string(), outcome.result);
        let candidate = Value::Object(wrapped);
        // The common case answers yes or no without collecting errors.
        if validator.is_valid(&candidate) {
            return Some(candidate);
        }
        // Where it breaks the structure, never the values (they may be secrets).
        let broken: Vec<String> =
            validator.iter_errors(&candidate).take(3).map(|e| e.instance_path().to_string()).collect();
        if broken.is_empty() {
            return Some(candidate);
        }
        tracing::info!(
            action = %action.name,
            at = %broken.join(", "),
            "a result does not have the structure TrueNAS declares for it; it is sent as text only"
        );
        Some(empty)
    }

    fn validator(
        &self,
        action: &ActionDef,
        release: Release,
        schema: &JsonObject,
    ) -> Option<Arc<jsonschema::Validator>> {
        let method = routed(action, release)?;
        let mut validators = self.validators.lock().unwrap_or_else(|p| p.into_inner());
        validators
            .entry((release, method.clone()))
            .or_insert_with(|| {
                let built = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&Value::Object(schema.clone()));
                match built {
                    Ok(v) => Some(Arc::new(v)),
                    Err(e) => {
                        tracing::warn!(%method, error = %e, "the declared result structure does not compile; results are sent as text only");
                        None
                    }
                }
            })
            .clone()
    }
}

/// The key results are wrapped under.
pub(crate) const RESULT: &str = "result";

/// The method `action` calls on `release`, when its result can be declared (not the raw API,
/// whose method comes from its arguments).
fn routed(action: &ActionDef, release: Release) -> Option<MethodName> {
    if action.is_rest_call() {
        return None;
    }
    action.method_for(release).ok().cloned()
}

/// The wrapped schema of `method`'s result on `release`, if TrueNAS declares one worth having.
fn wrap(release: Release, method: &MethodName) -> Option<JsonObject> {
    let returns = ReturnsTable::get(release)?.returns(method.as_str())?;
    if returns.get("type").and_then(Value::as_str) == Some("null") {
        return None;
    }
    let description = format!(
        "`result` is what TrueNAS's `{method}` answered, in the structure TrueNAS declares for it. It is left \
         out when the answer does not have that structure, was cut to the text limit, or is the handle of a job \
         still running; the text content always carries the answer."
    );
    let schema = json!({
        "type": "object",
        "description": description,
        "properties": { RESULT: returns.as_ref() },
        "additionalProperties": false,
    });
    match schema {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
