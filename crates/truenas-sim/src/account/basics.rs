//! What every account file shares: the constants TrueNAS keeps for local accounts, times as the
//! middleware puts them on the wire, the digest secrets are kept as, and the shorthands for
//! validation problems. It uses nothing else in `account/`.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::clock;
use crate::json::object;

/// The home of users without one.
pub(crate) const DEFAULT_HOME: &str = "/var/empty";
/// First uid and gid handed out automatically (TrueNAS keeps lower ones for the system).
pub(crate) const FIRST_FREE_ID: i64 = 3000;
/// The group every SMB user joins.
pub(crate) const BUILTIN_USERS: &str = "builtin_users";
/// How TrueNAS shows a secret to a caller.
pub(crate) const REDACTED: &str = "********";
pub(crate) const MS_PER_DAY: u64 = 86_400_000;
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// `EPERM`, for refusals the middleware raises with it (the name comes from the errno table).
pub(crate) const EPERM: i64 = 1;
/// `EACCES`, likewise.
pub(crate) const EACCES: i64 = 13;

/// The SHA-256 digest a password or key secret is kept as.
pub(crate) fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Milliseconds since the epoch (`crate::clock`), unsigned as accounts keep them.
pub(crate) fn now_ms() -> u64 {
    u64::try_from(clock::now_ms()).unwrap_or(0)
}

/// A datetime as the middleware puts it on the wire (`crate::clock::date`).
pub(crate) fn wire_date(ms: u64) -> Value {
    clock::date(i64::try_from(ms).unwrap_or(i64::MAX))
}

pub(crate) use crate::failure::{check, invalid};

/// The integers of an array member, empty when absent.
pub(crate) fn ids(data: &Map<String, Value>, key: &str) -> Vec<i64> {
    data.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

/// The fields of `value` (an object) whose names `keep` lists.
pub(crate) fn kept_fields(value: Value, keep: &[&str]) -> Map<String, Value> {
    let mut fields = object(value);
    fields.retain(|k, _| keep.contains(&k.as_str()));
    fields
}

/// `n` random letters and digits.
pub(crate) fn random_alphanumeric(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for byte in uuid::Uuid::new_v4().into_bytes() {
            if out.len() < n {
                out.push(char::from(ALPHANUMERIC[usize::from(byte) % ALPHANUMERIC.len()]));
            }
        }
    }
    out
}
