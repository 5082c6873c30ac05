//! RFC 8785 JSON Canonicalization Scheme (JCS): the one canonical byte form of a JSON value,
//! used for the argument digest that audit records and approvals bind to, and for the audit
//! chain's hashes.
//!
//! Objects have their keys sorted by UTF-16 code units, no whitespace is written, strings use
//! the minimal escaping of ECMAScript's `JSON.stringify`, and floating-point numbers are written
//! as ECMAScript's `Number.prototype.toString` writes them (shortest round-trip digits).
//!
//! One deliberate departure, so that the form stays one-to-one: JCS reads every number as an
//! IEEE 754 double, which would give `9007199254740993` and `9007199254740992` the same bytes
//! (and so the same digest). Integers are written exactly, digit for digit. For every integer
//! a double holds exactly (|n| <= 2^53) this is the same output as JCS.
//!
//! Written here rather than taken from a crate: `serde_jcs` is unmaintained and both it and
//! `serde_json_canonicalizer` round integers through `f64`, the collision above.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// A value JCS cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    /// NaN and the infinities have no JSON form.
    #[error("`{0}` is not a finite number")]
    NotFinite(String),
}

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, JcsError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out.into_bytes())
}

/// The canonical text of `value`.
pub fn to_string(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

/// The canonical text of an object, appended to `out`.
pub fn write_object(map: &Map<String, Value>, out: &mut String) -> Result<(), JcsError> {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| key_order(a.0, b.0));
    out.push('{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(key, out);
        out.push(':');
        write_value(value, out)?;
    }
    out.push('}');
    Ok(())
}

/// RFC 8785 section 3.2.3's key order: by UTF-16 code units. It differs from UTF-8 byte order
/// only for characters above U+FFFF against U+E000..U+FFFF, so ASCII keys compare as bytes.
pub fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() { a.cmp(b) } else { a.encode_utf16().cmp(b.encode_utf16()) }
}

/// The canonical text of `value`, appended to `out`.
pub fn write_value(value: &Value, out: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

/// A string with JCS's escaping: `"` and `\`, the short forms `\b \t \n \f \r`, `\u00xx`
/// (lowercase hex) for the other control characters, everything else as is. Runs of bytes that
/// need no escape are copied whole: every byte that needs one is ASCII, so it never falls
/// inside a multi-byte character and the runs between them are whole characters.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut run = 0;
    for (i, byte) in s.bytes().enumerate() {
        let short = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            0x00..=0x1f => "",
            _ => continue,
        };
        // INVARIANT: `run` and `i` are at ASCII bytes or the ends, so both are char boundaries.
        out.push_str(s.get(run..i).unwrap_or_default());
        if short.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(short);
        }
        run = i + 1;
    }
    out.push_str(s.get(run..).unwrap_or_default());
    out.push('"');
}

fn write_number(n: &Number, out: &mut String) -> Result<(), JcsError> {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        write_f64(f, out)?;
    } else {
        return Err(JcsError::NotFinite(n.to_string()));
    }
    Ok(())
}

/// ECMAScript `Number.prototype.toString` (ECMA-262 section 6.1.6.1.20) for a finite double.
pub fn write_f64(f: f64, out: &mut String) -> Result<(), JcsError> {
    if !f.is_finite() {
        return Err(JcsError::NotFinite(f.to_string()));
    }
    if f == 0.0 {
        out.push('0'); // also -0
        return Ok(());
    }
    if f < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as ECMAScript requires:
    // `d[.ddd]e<exp>`.
    let (digits, exp) = shortest_digits(f.abs());
    let k = digits.len() as i32;
    // The value is 0.digits × 10^n.
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
    Ok(())
}

/// The shortest digits that read back as `a` (positive, finite) and the decimal exponent of the
/// first, choosing among equally short candidates the one closest to `a`, the even one on a tie
/// (as ECMAScript does; Rust's `{:e}` rounds such ties up).
fn shortest_digits(a: f64) -> (String, i32) {
    let split = |sci: &str| -> (String, i32) {
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        (mantissa.chars().filter(char::is_ascii_digit).collect(), exp.parse().unwrap_or(0))
    };
    let (digits, exp) = split(&format!("{a:e}"));
    // The exact decimal expansion of a double has at most 767 significant digits.
    let (exact, exact_exp) = split(&format!("{a:.800e}"));
    let k = digits.len();
    if exact_exp != exp || exact.len() <= k {
        return (digits, exp);
    }
    let (head, rest) = exact.split_at(k);
    let rest = rest.as_bytes();
    let up = match rest.first() {
        Some(b'6'..=b'9') => true,
        Some(b'5') if rest[1..].iter().any(|&d| d != b'0') => true,
        Some(b'5') => head.as_bytes().last().is_some_and(|d| (d - b'0') % 2 == 1),
        _ => false,
    };
    let mut nearest: Vec<u8> = head.bytes().collect();
    if up {
        let mut i = nearest.len();
        loop {
            if i == 0 {
                return (digits, exp); // carried into a new digit: keep Rust's answer
            }
            i -= 1;
            if nearest[i] == b'9' {
                nearest[i] = b'0';
            } else {
                nearest[i] += 1;
                break;
            }
        }
    }
    let nearest = String::from_utf8(nearest).unwrap_or_default();
    if nearest != digits {
        let candidate = format!("{}.{}e{exp}", &nearest[..1], &nearest[1..]);
        if candidate.parse::<f64>().is_ok_and(|c| c == a) {
            return (nearest, exp);
        }
    }
    (digits, exp)
}

#[cfg(test)]
#[path = "jcs_tests.rs"]
mod tests;
