//! Why a simulated method call failed, in TrueNAS's own terms: a `CallError` with an errno, or
//! `ValidationErrors` with one `[attribute, message, errno]` entry per problem. Each knows its
//! JSON-RPC wire form (code, message, `data`) and its job form (`error`, `exc_info`).

use serde_json::{Value, json};

/// Errno numbers the simulated NAS uses, and their names (`truenas_api::errno`).
pub(crate) mod errno {
    pub(crate) const ENOENT: i64 = 2;
    pub(crate) const ENOMEM: i64 = 12;
    pub(crate) const EFAULT: i64 = 14;
    pub(crate) const EEXIST: i64 = 17;
    pub(crate) const EINVAL: i64 = 22;
    pub(crate) const ENOTSUP: i64 = 95;
    pub(crate) const ENOTAUTHENTICATED: i64 = 207;

    pub(crate) use truenas_api::errno::{code, name};
}

/// JSON-RPC error codes TrueNAS sends.
pub(crate) mod code {
    pub(crate) const INVALID_JSON: i64 = -32700;
    pub(crate) const INVALID_REQUEST: i64 = -32600;
    pub(crate) const METHOD_NOT_FOUND: i64 = -32601;
    pub(crate) const INVALID_PARAMS: i64 = -32602;
    pub(crate) const TOO_MANY_CONCURRENT_CALLS: i64 = -32000;
    pub(crate) const CALL_ERROR: i64 = -32001;
}

/// One entry of a validation failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid {
    /// Dotted attribute (`vm_create.name`); `None` for an instance that does not exist.
    pub attribute: Option<String>,
    /// What is wrong with it.
    pub message: String,
    /// The errno the middleware gives it.
    pub errno: i64,
}

/// A failed call, as the middleware would raise it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// `CallError(message, errno, extra)`.
    Call {
        /// The errno.
        errno: i64,
        /// Set when the errname is not one the simulator knows (injected faults).
        errname: Option<String>,
        /// The message.
        message: String,
        /// The extra payload, when the error has one.
        extra: Option<Box<Value>>,
    },
    /// `ValidationErrors`, or a single `ValidationError` such as `InstanceNotFound`.
    Validation(Vec<Invalid>),
    /// Any other Python exception (`MatchNotFound`, `ValueError`): sent as `-32001` with
    /// `EINVAL` and the exception's own text as the reason.
    Exception {
        /// The Python class name.
        class: &'static str,
        /// The exception's text.
        reason: String,
    },
}

impl Failure {
    /// A `CallError` with an errno.
    pub(crate) fn call(errno: i64, message: impl Into<String>) -> Failure {
        Failure::Call { errno, errname: None, message: message.into(), extra: None }
    }

    /// The middleware's default `CallError` errno is `EFAULT`.
    pub(crate) fn fault(message: impl Into<String>) -> Failure {
        Failure::call(errno::EFAULT, message)
    }

    /// `InstanceNotFound`: what `get_instance` raises for an unknown id (`VM 7 does not exist`).
    pub(crate) fn not_found(message: impl Into<String>) -> Failure {
        Failure::Validation(vec![Invalid { attribute: None, message: message.into(), errno: errno::ENOENT }])
    }

    /// Refusal for a session that has not logged in.
    pub(crate) fn not_authenticated() -> Failure {
        Failure::call(errno::ENOTAUTHENTICATED, "Not authenticated")
    }

    /// A fault injected by the test harness, with any errname.
    pub(crate) fn injected(errname: &str, message: &str) -> Failure {
        let known = errno::code(errname);
        Failure::Call {
            errno: known.unwrap_or(errno::EFAULT),
            errname: if known.is_some() { None } else { Some(errname.to_string()) },
            message: message.to_string(),
            extra: None,
        }
    }

    fn errname(&self) -> String {
        match self {
            Failure::Call { errname: Some(name), .. } => name.clone(),
            Failure::Call { errno, .. } => errno::name(*errno).to_string(),
            Failure::Validation(_) | Failure::Exception { .. } => "EINVAL".to_string(),
        }
    }

    /// `str(exception)` in the middleware: `[ENOMEM] Cannot guarantee memory for guest x`, or one
    /// `[ERRNAME] attribute: message` line per validation problem.
    pub fn reason(&self) -> String {
        match self {
            Failure::Call { message, .. } => format!("[{}] {message}", self.errname()),
            Failure::Validation(items) => items
                .iter()
                .map(|i| {
                    let attribute = i.attribute.as_deref().unwrap_or("None");
                    format!("[{}] {attribute}: {}\n", errno::name(i.errno), i.message)
                })
                .collect(),
            Failure::Exception { reason, .. } => reason.clone(),
        }
    }

    fn extra(&self) -> Value {
        match self {
            Failure::Call { extra, .. } => extra.as_deref().cloned().unwrap_or(Value::Null),
            Failure::Exception { .. } => Value::Null,
            Failure::Validation(items) => {
                Value::Array(items.iter().map(|i| json!([i.attribute, i.message, i.errno])).collect())
            }
        }
    }

    /// The JSON-RPC error object: `{code, message, data}`.
    pub(crate) fn to_rpc_error(&self) -> Value {
        let (code, message, errno) = match self {
            Failure::Call { errno, .. } => (code::CALL_ERROR, "Method call error", *errno),
            Failure::Validation(_) => (code::INVALID_PARAMS, "Invalid params", errno::EINVAL),
            Failure::Exception { .. } => (code::CALL_ERROR, "Method call error", errno::EINVAL),
        };
        json!({
            "code": code,
            "message": message,
            "data": {
                "error": errno,
                "errname": self.errname(),
                "reason": self.reason(),
                "trace": null,
                "extra": self.extra(),
            },
        })
    }

    /// The REST form (`/api/v2.0`): status and body, as `restful.py` answers. A `CallError` is 422
    /// `{"message", "errno"}`, validation errors are 422 `{attribute: [{"message", "errno"}]}`
    /// (`null` for none), `MatchNotFound` is 404 and any other exception 500 with a traceback.
    pub(crate) fn to_rest(&self) -> (u16, Value) {
        match self {
            Failure::Call { errno, message, .. } => (422, json!({"message": message, "errno": errno})),
            Failure::Validation(items) => {
                let mut by_attribute = serde_json::Map::new();
                for item in items {
                    let key = item.attribute.clone().unwrap_or_else(|| "null".to_string());
                    let entry = by_attribute.entry(key).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = entry {
                        list.push(json!({"message": item.message, "errno": item.errno}));
                    }
                }
                (422, Value::Object(by_attribute))
            }
            Failure::Exception { class: "MatchNotFound", reason } => (404, json!({"message": reason})),
            Failure::Exception { reason, .. } => (500, json!({"message": reason, "traceback": self.exception_text()})),
        }
    }

    /// The message of an `InstanceNotFound` (one entry without attribute, ENOENT).
    pub(crate) fn not_found_message(&self) -> Option<&str> {
        match self {
            Failure::Validation(items) => match items.as_slice() {
                [only] if only.attribute.is_none() && only.errno == errno::ENOENT => Some(&only.message),
                _ => None,
            },
            _ => None,
        }
    }

    /// The `exc_info` of a failed job.
    pub(crate) fn exc_info(&self) -> Value {
        match self {
            Failure::Call { errno, message, extra, .. } => json!({
                "repr": format!("CallError({message:?})"),
                "type": "CallError",
                "errno": errno,
                "extra": extra,
            }),
            Failure::Exception { class, reason } => json!({
                "repr": reason,
                "type": class,
                "errno": null,
                "extra": null,
            }),
            Failure::Validation(items) => {
                let errno = if items.len() == 1 { items.first().map(|i| i.errno) } else { None };
                json!({
                    "repr": format!("ValidationErrors({:?})", self.reason().trim_end()),
                    "type": "VALIDATION",
                    "errno": errno,
                    "extra": self.extra(),
                })
            }
        }
    }

    /// The traceback text a failed job carries in `exception`.
    pub(crate) fn exception_text(&self) -> String {
        let class = match self {
            Failure::Call { .. } => "middlewared.service_exception.CallError",
            Failure::Validation(_) => "middlewared.service_exception.ValidationErrors",
            Failure::Exception { class, .. } => class,
        };
        format!("Traceback (most recent call last):\n  (simulated)\n{class}: {}\n", self.reason().trim_end())
    }
}

/// The `(attribute, message)` pairs of a validation failure, for tests; panics on any other.
/// One validation problem, `attribute` dotted as the middleware names it.
pub(crate) fn invalid(attribute: impl Into<String>, message: impl Into<String>, errno: i64) -> Invalid {
    Invalid { attribute: Some(attribute.into()), message: message.into(), errno }
}

/// `Ok` when there is nothing to report, else every problem as one `ValidationErrors`.
pub(crate) fn check(problems: Vec<Invalid>) -> Result<(), Failure> {
    if problems.is_empty() { Ok(()) } else { Err(Failure::Validation(problems)) }
}

#[cfg(test)]
pub(crate) fn validation_messages(f: Failure) -> Vec<(String, String)> {
    match f {
        Failure::Validation(items) => items.into_iter().map(|i| (i.attribute.unwrap_or_default(), i.message)).collect(),
        other => panic!("not a validation error: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_errors_render_like_the_middleware() {
        let f = Failure::call(errno::ENOMEM, "Cannot guarantee memory for guest win");
        let e = f.to_rpc_error();
        assert_eq!(e["code"], -32001);
        assert_eq!(e["message"], "Method call error");
        assert_eq!(e["data"]["error"], 12);
        assert_eq!(e["data"]["errname"], "ENOMEM");
        assert_eq!(e["data"]["reason"], "[ENOMEM] Cannot guarantee memory for guest win");
        assert_eq!(e["data"]["extra"], Value::Null);
    }

    #[test]
    fn instance_not_found_is_a_validation_error_carrying_enoent() {
        let e = Failure::not_found("VM 9 does not exist").to_rpc_error();
        assert_eq!(e["code"], -32602);
        assert_eq!(e["data"]["error"], 22);
        assert_eq!(e["data"]["errname"], "EINVAL");
        assert_eq!(e["data"]["reason"], "[ENOENT] None: VM 9 does not exist\n");
        assert_eq!(e["data"]["extra"], json!([[null, "VM 9 does not exist", 2]]));
    }

    #[test]
    fn injected_unknown_errnames_are_kept() {
        let e = Failure::injected("EWEIRD", "boom").to_rpc_error();
        assert_eq!(e["data"]["errname"], "EWEIRD");
        assert_eq!(e["data"]["error"], 14);
        let e = Failure::injected("EBUSY", "Rate Limit Exceeded").to_rpc_error();
        assert_eq!(e["data"]["error"], 16);
        assert_eq!(e["data"]["reason"], "[EBUSY] Rate Limit Exceeded");
    }
}
