//! Wall-clock helpers the domains share: now in seconds or milliseconds, and the `{"$date": ms}`
//! form the middleware's JSON encoder gives datetimes on the wire.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

/// A datetime as the wire carries it.
pub(crate) fn date(ms: i64) -> Value {
    json!({"$date": ms})
}

/// `hours` ago, in milliseconds since the epoch.
pub(crate) fn hours_ago_ms(hours: i64) -> i64 {
    now_ms() - hours * 3_600_000
}
