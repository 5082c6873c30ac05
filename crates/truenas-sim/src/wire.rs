//! JSON-RPC 2.0 framing as the middleware does it: envelope checks and the reply shapes.

use serde_json::{Map, Value, json};

/// Checks the request envelope; the error text is what the middleware sends with `-32600`.
pub(crate) fn check_envelope(message: &Map<String, Value>) -> Result<(), &'static str> {
    match message.get("jsonrpc") {
        None => return Err("Missing 'jsonrpc' member"),
        Some(v) if v.as_str() != Some("2.0") => {
            return Err("'jsonrpc' member must be of type string and must be exactly '2.0'");
        }
        Some(_) => {}
    }
    if let Some(id) = message.get("id")
        && !(id.is_null() || id.is_i64() || id.is_u64() || id.is_string())
    {
        return Err("'id' member must be of type null, string or number");
    }
    match message.get("method") {
        None => return Err("Missing 'method' member"),
        Some(Value::String(m)) if !m.is_empty() => {}
        Some(_) => return Err("'method' member must be of type string"),
    }
    if message.get("params").is_some_and(|p| !p.is_array()) {
        return Err("'params' member must be of type array");
    }
    Ok(())
}

/// A successful reply.
pub(crate) fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "result": result, "id": id})
}

/// An error reply with a ready error object (`{code, message, data}`).
pub(crate) fn error_object(id: &Value, error: Value) -> Value {
    json!({"jsonrpc": "2.0", "error": error, "id": id})
}

/// An error reply without `data` (protocol-level errors).
pub(crate) fn error(id: &Value, code: i64, message: &str) -> Value {
    error_object(id, json!({"code": code, "message": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<(), &'static str> {
        check_envelope(v.as_object().unwrap())
    }

    #[test]
    fn envelopes_are_checked_like_the_middleware() {
        assert_eq!(check(json!({"jsonrpc": "2.0", "id": 1, "method": "core.ping"})), Ok(()));
        assert_eq!(check(json!({"jsonrpc": "2.0", "id": null, "method": "core.ping", "params": []})), Ok(()));
        assert_eq!(check(json!({"id": 1, "method": "core.ping"})), Err("Missing 'jsonrpc' member"));
        assert!(check(json!({"jsonrpc": "1.0", "id": 1, "method": "x"})).is_err());
        assert!(check(json!({"jsonrpc": "2.0", "id": [1], "method": "x"})).is_err());
        assert_eq!(check(json!({"jsonrpc": "2.0", "id": 1})), Err("Missing 'method' member"));
        assert!(check(json!({"jsonrpc": "2.0", "id": 1, "method": ""})).is_err());
        assert_eq!(
            check(json!({"jsonrpc": "2.0", "id": 1, "method": "x", "params": {}})),
            Err("'params' member must be of type array")
        );
    }
}
