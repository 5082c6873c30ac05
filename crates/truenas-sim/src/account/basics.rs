//! What every account file shares: the constants TrueNAS keeps for local accounts, times as the
//! middleware puts them on the wire, the digest secrets are kept as, and the shorthands for
//! validation problems. It uses nothing else in `account/`.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::failure::{Failure, Invalid};

/// The home of users without one.
pub(crate) const DEFAULT_HOME: &str = "/var/empty";
/// First uid and gid handed out automatically (TrueNAS keeps lower ones for the system).
pub(crate) const FIRST_FREE_ID: i64 = 3000;
/// The group every SMB user joins.
pub(crate) const BUILTIN_USERS: &str = "builtin_users";
/// How TrueNAS shows a secret to a caller.
pub(crate) const REDACTED: &str = "********";
pub(crate) const MS_PER_DAY: u64 = 86_400_000;
/// `EPERM`, for refusals the middleware raises with it (the name comes from the errno table).
pub(crate) const EPERM: i64 = 1;
/// `EACCES`, likewise.
pub(crate) const EACCES: i64 = 13;

/// The SHA-256 digest a password or key secret is kept as.
pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A datetime as the middleware puts it on the wire.
pub(crate) fn wire_date(ms: u64) -> Value {
    json!({"$date": ms})
}

pub(crate) fn invalid(attribute: &str, message: impl Into<String>, errno: i64) -> Invalid {
    Invalid { attribute: Some(attribute.to_string()), message: message.into(), errno }
}

pub(crate) fn check(problems: Vec<Invalid>) -> Result<(), Failure> {
    if problems.is_empty() { Ok(()) } else { Err(Failure::Validation(problems)) }
}

/// The integers of an array member, empty when absent.
pub(crate) fn ids(data: &Map<String, Value>, key: &str) -> Vec<i64> {
    data.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

/// The fields of `value` (an object) whose names `keep` lists.
pub(crate) fn kept_fields(value: Value, keep: &[&str]) -> Map<String, Value> {
    let mut fields = match value {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    fields.retain(|k, _| keep.contains(&k.as_str()));
    fields
}
