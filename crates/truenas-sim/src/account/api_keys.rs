//! API keys (`api_key.*`): each belongs to a user with at least one role, has a unique name and
//! an optional expiry, and its secret is shown once, when it is made or reset (`<id>-<64
//! characters>`). A key whose owner is gone reads as revoked, as in the middleware. Only a
//! digest of each secret is kept; logins still use the simulator's configured key.

use serde_json::{Map, Value};

pub(crate) use crate::account::basics::random_alphanumeric;
use crate::account::basics::{check, digest, invalid, now_ms};
use crate::failure::{Failure, errno};
use crate::table::Rows;

/// Length of the random part of a key.
const KEY_CHARS: usize = 64;

/// One API key.
#[derive(Debug, Clone)]
pub(crate) struct ApiKey {
    pub(crate) id: i64,
    pub(crate) name: String,
    /// Database id of the owning user.
    pub(crate) user: i64,
    pub(crate) created_at: u64,
    /// Expiry in ms since the epoch.
    pub(crate) expires_at: Option<u64>,
    pub(crate) revoked_reason: Option<String>,
    pub(crate) revoked: bool,
    digest: [u8; 32],
}

/// The keys, by id.
#[derive(Debug, Default)]
pub(crate) struct ApiKeyStore {
    rows: Rows<ApiKey>,
}

impl ApiKeyStore {
    /// Ids of the keys `user` owns.
    pub(crate) fn owned_by(&self, user: i64) -> Vec<i64> {
        self.rows.values().filter(|k| k.user == user).map(|k| k.id).collect()
    }

    pub(crate) fn key(&self, id: i64) -> Result<&ApiKey, Failure> {
        self.rows.get(id).ok_or_else(|| api_key_not_found(id))
    }

    /// Every key, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &ApiKey> {
        self.rows.values()
    }

    /// Stores a key; returns its id and its full secret.
    pub(crate) fn insert(&mut self, name: &str, user: i64, secret: Option<&str>) -> (i64, String) {
        let secret = secret.map(str::to_string).unwrap_or_else(|| random_alphanumeric(KEY_CHARS));
        let id = self.rows.insert_with(|id| ApiKey {
            id,
            name: name.to_string(),
            user,
            created_at: now_ms(),
            expires_at: None,
            revoked_reason: None,
            revoked: false,
            digest: digest(&secret),
        });
        (id, format!("{id}-{secret}"))
    }

    /// Checks a name and an expiry; `schema` names the attribute. Returns the expiry.
    pub(crate) fn check(
        &self,
        schema: &str,
        name: &str,
        expires: Option<&Value>,
        id: Option<i64>,
    ) -> Result<Option<u64>, Failure> {
        let mut problems = Vec::new();
        if self.rows.values().any(|k| k.name == name && Some(k.id) != id) {
            problems.push(invalid(schema, "name must be unique", errno::EINVAL));
        }
        let expiry = match expires.and_then(Value::as_str) {
            None => None,
            Some(text) => match parse_datetime(text) {
                Some(ms) if ms < now_ms() => {
                    problems.push(invalid(schema, "Expiration date is in the past", errno::EINVAL));
                    None
                }
                Some(ms) => Some(ms),
                None => {
                    problems.push(invalid(
                        format!("{schema}.expires_at"),
                        "Input should be a valid datetime",
                        errno::EINVAL,
                    ));
                    None
                }
            },
        };
        check(problems)?;
        Ok(expiry)
    }

    /// `api_key.update`: renames, changes the expiry, or with `reset` issues a new secret
    /// (returned) and lifts a revocation.
    pub(crate) fn update(&mut self, id: i64, data: &Map<String, Value>) -> Result<Option<String>, Failure> {
        let old = self.key(id)?;
        let name = data.get("name").and_then(Value::as_str).unwrap_or(&old.name).to_string();
        let old_expiry = old.expires_at;
        let expiry = match data.get("expires_at") {
            Some(Value::Null) => None,
            Some(v) => self.check("api_key_update", &name, Some(v), Some(id))?,
            None => {
                self.check("api_key_update", &name, None, Some(id))?;
                old_expiry
            }
        };
        let reset = data.get("reset").and_then(Value::as_bool).unwrap_or(false);
        let secret = reset.then(|| random_alphanumeric(KEY_CHARS));
        let key = self.rows.get_mut(id).ok_or_else(|| api_key_not_found(id))?;
        key.name = name;
        key.expires_at = expiry;
        if let Some(secret) = &secret {
            key.digest = digest(secret);
            key.revoked = false;
            key.revoked_reason = None;
        }
        Ok(secret.map(|s| format!("{id}-{s}")))
    }

    /// `api_key.delete`.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.key(id)?;
        self.rows.remove(id);
        Ok(())
    }

    /// Whether `key` (`<id>-<secret>`) is the current secret of its key.
    #[cfg(test)]
    pub(crate) fn matches(&self, key: &str) -> bool {
        let Some((id, secret)) = key.split_once('-') else { return false };
        let Ok(id) = id.parse::<i64>() else { return false };
        self.rows.get(id).is_some_and(|k| !k.revoked && k.digest == digest(secret))
    }

    /// Sets the expiry of key `id` (ms since the epoch).
    pub(crate) fn set_expiry(&mut self, id: i64, expiry: Option<u64>) {
        if let Some(key) = self.rows.get_mut(id) {
            key.expires_at = expiry;
        }
    }
}

pub(crate) fn api_key_not_found(id: i64) -> Failure {
    Failure::not_found(format!("ApiKey {id} does not exist"))
}

/// An RFC 3339 date-time (`2026-01-31T12:00:00Z`, fractions and offsets allowed) in ms since
/// the epoch.
pub(crate) fn parse_datetime(text: &str) -> Option<u64> {
    let number = |s: &str| s.parse::<i64>().ok();
    let (date, rest) = text.split_at_checked(10)?;
    let mut parts = date.split('-');
    let (y, m, d) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let (clock, zone) = rest.split_at_checked(8)?;
    let mut parts = clock.split(':');
    let (hh, mm, ss) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    let zone = zone.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    let offset = match zone {
        "Z" | "z" | "" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone.get(1..)?.split_once(':')?;
            sign * (number(h)? * 3600 + number(m)? * 60)
        }
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from((days * 86_400 + hh * 3600 + mm * 60 + ss - offset) * 1000).ok()
}

#[cfg(test)]
#[path = "api_keys_tests.rs"]
mod tests;
