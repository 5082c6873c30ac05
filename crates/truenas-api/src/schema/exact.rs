//! Numbers TrueNAS can take exactly. TrueNAS's integers are 64-bit signed; JSON numbers beyond
//! that range, or floats too large to hold every integer (|f| >= 2^53), would reach the NAS
//! rounded (`-9223372036854775809` parses as a float and is sent as `-9223372036854775808`).
//! Such numbers are refused wherever they appear, never rounded.

use serde_json::{Number, Value};

/// 2^53: from here on a float no longer holds every integer.
const EXACT_FLOAT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// Whether TrueNAS would receive this number exactly as written: an integer within i64, or a
/// float that is not an integral value at or beyond 2^53 in magnitude.
pub fn is_exact(n: &Number) -> bool {
    if n.is_i64() {
        return true;
    }
    if n.is_u64() {
        // Above i64::MAX.
        return false;
    }
    match n.as_f64() {
        Some(f) if f.is_finite() => f.fract() != 0.0 || f.abs() < EXACT_FLOAT_LIMIT,
        _ => false,
    }
}

/// The first number in `value` (itself or nested) that is not exact, with its location below
/// `at` (`at.key[2]`).
pub fn find_inexact(value: &Value, at: &str) -> Option<(String, Number)> {
    match value {
        Value::Number(n) if !is_exact(n) => Some((at.to_string(), n.clone())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| find_inexact(item, &format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| find_inexact(v, &format!("{at}.{k}"))),
        _ => None,
    }
}

/// Why such a number is refused, for messages.
pub const INEXACT_REASON: &str =
    "is not an integer TrueNAS can take exactly (integers must fit in 64 bits; floats are exact only below 2^53)";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn number(text: &str) -> Number {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn integers_within_i64_and_small_or_fractional_floats_are_exact() {
        for ok in [
            "0",
            "-9223372036854775808",
            "9223372036854775807",
            "3.0",
            "3.25",
            "9007199254740991.0",
            "1.5e10",
            "123456.789",
        ] {
            assert!(is_exact(&number(ok)), "{ok}");
        }
    }

    #[test]
    fn numbers_that_would_be_rounded_are_not_exact() {
        for bad in
            ["-9223372036854775809", "9223372036854775808", "18446744073709551615", "9007199254740992.0", "1e300"]
        {
            assert!(!is_exact(&number(bad)), "{bad}");
        }
    }

    #[test]
    fn nested_numbers_are_found_with_their_location() {
        let v: Value = serde_json::from_str(r#"{"a": [1, {"b": -9223372036854775809}]}"#).unwrap();
        let (at, n) = find_inexact(&v, "params").unwrap();
        assert_eq!(at, "params.a[1].b");
        assert!(n.as_f64().is_some());
        assert_eq!(find_inexact(&json!({"a": [1, 2.5, "x"]}), "params"), None);
    }
}
