//! ZFS's conventions every storage file shares: dataset and snapshot names (pool, parent,
//! within), sizes as `zfs list` prints and parses them, times and guids, the transaction group
//! counter, and the shorthands for validation problems. It uses nothing else in `storage/`.

use serde_json::Value;

use crate::clock;
use crate::failure::Failure;

/// What a fresh dataset occupies before anything is written to it (ZFS shows 96K).
pub(crate) const EMPTY_DATASET: u64 = 96 * 1024;

/// The transaction group counter: every change that ZFS would write bumps it.
#[derive(Debug)]
pub(crate) struct Txg(u64);

impl Default for Txg {
    fn default() -> Self {
        Txg(4)
    }
}

impl Txg {
    /// A new transaction group number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// The pool part of a dataset or snapshot name (`tank` for `tank/a/b@s`).
pub(crate) fn pool_name(name: &str) -> &str {
    let name = name.split('@').next().unwrap_or(name);
    name.split('/').next().unwrap_or(name)
}

/// The parent of a dataset name, `None` for a pool's root dataset.
pub(crate) fn parent_name(name: &str) -> Option<&str> {
    name.rsplit_once('/').map(|(parent, _)| parent)
}

/// Whether `name` is `ancestor` or lies below it.
pub(crate) fn is_within(name: &str, ancestor: &str) -> bool {
    name == ancestor || name.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with('/'))
}

/// Seconds since the epoch.
pub(crate) fn now_secs() -> u64 {
    u64::try_from(clock::now_secs()).unwrap_or(0)
}

/// A random 64-bit ZFS guid, in decimal as the middleware prints it.
pub(crate) fn new_guid() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(eight).to_string()
}

/// A datetime on the wire: `{"$date": milliseconds}`.
pub(crate) fn date(secs: u64) -> Value {
    clock::date(i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX))
}

/// A size as `zfs list` prints it: `128K`, `3.20T`, `40.0G`, `512`.
pub(crate) fn nicenum(n: u64) -> String {
    const UNITS: [&str; 7] = ["", "K", "M", "G", "T", "P", "E"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && n >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    let suffix = UNITS.get(unit).copied().unwrap_or("");
    let divisor = 1u64 << (10 * unit);
    if n.is_multiple_of(divisor) {
        return format!("{}{suffix}", n / divisor);
    }
    let value = n as f64 / divisor as f64;
    match value {
        v if v < 10.0 => format!("{v:.2}{suffix}"),
        v if v < 100.0 => format!("{v:.1}{suffix}"),
        v => format!("{v:.0}{suffix}"),
    }
}

/// Parses a size such as `128K`, `1M`, `512B` or `512` into bytes.
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_uppercase();
    let text = text.strip_suffix('B').filter(|t| !t.is_empty()).unwrap_or(&text);
    let (digits, shift) = match text.chars().last()? {
        'K' => (&text[..text.len() - 1], 10),
        'M' => (&text[..text.len() - 1], 20),
        'G' => (&text[..text.len() - 1], 30),
        'T' => (&text[..text.len() - 1], 40),
        _ => (text, 0),
    };
    digits.parse::<u64>().ok().and_then(|n| n.checked_mul(1u64 << shift))
}

pub(crate) use crate::failure::{check, invalid};

/// A single validation problem as a failure.
pub(crate) fn refuse(attribute: impl Into<String>, message: impl Into<String>, errno: i64) -> Failure {
    Failure::Validation(vec![invalid(attribute, message, errno)])
}

/// `strftime` for the conversions snapshot naming schemas use (`%Y %m %d %H %M %S %%`).
pub(crate) fn strftime(schema: &str, secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let mut out = String::new();
    let mut chars = schema.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{year:04}")),
            Some('m') => out.push_str(&format!("{month:02}")),
            Some('d') => out.push_str(&format!("{day:02}")),
            Some('H') => out.push_str(&format!("{:02}", rem / 3600)),
            Some('M') => out.push_str(&format!("{:02}", rem % 3600 / 60)),
            Some('S') => out.push_str(&format!("{:02}", rem % 60)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// How the middleware prints a creation time: `Sat Jun 14  3:05 2025` (UTC here).
pub(crate) fn ctime(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("Thu");
    let month = MONTHS.get((month - 1) as usize).copied().unwrap_or("Jan");
    let rem = secs % 86_400;
    format!("{weekday} {month} {day:02} {:>2}:{:02} {year}", rem / 3600, rem % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_zfs() {
        assert_eq!(nicenum(512), "512");
        assert_eq!(nicenum(128 * 1024), "128K");
        assert_eq!(nicenum(1 << 40), "1T");
        assert_eq!(nicenum(3_518_437_208_883), "3.20T");
        assert_eq!(nicenum(43_593_918_464), "40.6G");
        assert_eq!(nicenum(193_273_528_320), "180G");
    }

    #[test]
    fn sizes_parse_with_or_without_units() {
        assert_eq!(parse_size("128K"), Some(131_072));
        assert_eq!(parse_size("1M"), Some(1_048_576));
        assert_eq!(parse_size("512B"), Some(512));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn names_split_into_pool_and_parent() {
        assert_eq!(pool_name("tank/a/b@snap"), "tank");
        assert_eq!(parent_name("tank/a/b"), Some("tank/a"));
        assert_eq!(parent_name("tank"), None);
        assert!(is_within("tank/a/b", "tank/a"));
        assert!(!is_within("tank/ab", "tank/a"));
    }

    #[test]
    fn naming_schemas_expand_in_utc() {
        // 2025-06-14 03:05:09 UTC
        let secs = 1_749_870_309;
        assert_eq!(strftime("auto-%Y-%m-%d_%H-%M", secs), "auto-2025-06-14_03-05");
        assert_eq!(strftime("%S%%", secs), "09%");
        assert_eq!(ctime(secs), "Sat Jun 14  3:05 2025");
    }
}
