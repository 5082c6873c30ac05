use serde_json::{Value, json};

use super::*;

fn f64_text(bits: u64) -> Result<String, JcsError> {
    let mut out = String::new();
    write_f64(f64::from_bits(bits), &mut out).map(|()| out)
}

/// RFC 8785 appendix B: IEEE 754 doubles and their canonical text.
#[test]
fn numbers_match_the_rfc_appendix_b_vectors() {
    let vectors = [
        (0x0000000000000000, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for (bits, want) in vectors {
        assert_eq!(f64_text(bits).unwrap(), want, "bits {bits:#018x}");
    }
}

#[test]
fn nan_and_infinity_are_refused() {
    assert!(matches!(f64_text(0x7fffffffffffffff), Err(JcsError::NotFinite(_))));
    assert!(matches!(f64_text(0x7ff0000000000000), Err(JcsError::NotFinite(_))));
}

/// RFC 8785 section 3.2.2 / 3.2.3: the worked example.
#[test]
fn the_rfc_example_canonicalizes_byte_for_byte() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let value: Value = serde_json::from_str(input).unwrap();
    assert_eq!(
        to_string(&value).unwrap(),
        "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\
         \"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
    );
}

/// RFC 8785 section 3.2.3: keys sort by UTF-16 code units (the emoji's surrogates sort before
/// U+FB33, though its code point is higher).
#[test]
fn keys_sort_by_utf16_code_units() {
    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    let value: Value = serde_json::from_str(input).unwrap();
    let text = to_string(&value).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&text)
        .unwrap()
        .values()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        keys,
        [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh"
        ]
    );
    assert!(text.starts_with("{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\""), "{text}");
}

#[test]
fn control_characters_use_short_escapes_or_lowercase_hex() {
    let value = json!("\u{8}\t\n\u{c}\r\u{1}\u{1f}\u{7f}/<");
    assert_eq!(to_string(&value).unwrap(), "\"\\b\\t\\n\\f\\r\\u0001\\u001f\u{7f}/<\"");
}

#[test]
fn integers_are_exact_so_distinct_integers_never_share_bytes() {
    let a = json!(9_007_199_254_740_993_u64);
    let b = json!(9_007_199_254_740_992_u64);
    assert_eq!(to_string(&a).unwrap(), "9007199254740993");
    assert_ne!(to_string(&a).unwrap(), to_string(&b).unwrap());
    assert_eq!(to_string(&json!(i64::MIN)).unwrap(), "-9223372036854775808");
    assert_eq!(to_string(&json!(u64::MAX)).unwrap(), "18446744073709551615");
    // A whole double and the same integer write alike.
    assert_eq!(to_string(&json!(4.0)).unwrap(), to_string(&json!(4)).unwrap());
}

#[test]
fn nested_objects_sort_at_every_level_without_whitespace() {
    let value = json!({"b": [1, {"z": null, "a": true}], "a": {"y": "s", "x": -1.5}});
    assert_eq!(to_string(&value).unwrap(), r#"{"a":{"x":-1.5,"y":"s"},"b":[1,{"a":true,"z":null}]}"#);
    assert_eq!(to_vec(&value).unwrap(), to_string(&value).unwrap().into_bytes());
}

/// The escaping spelled out one character at a time, to check the run-copying writer against.
fn escaped_char_by_char(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn strings_mixing_escapes_and_multibyte_characters_are_written_whole() {
    let pieces = ["", "a", "é", "€", "😀", "\"", "\\", "\n", "\u{1}", "\u{1f}", "\u{7f}", "\u{80}", "/", "tank/data"];
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let s = format!("{a}{b}{c}");
                let mut out = String::new();
                write_string(&s, &mut out);
                assert_eq!(out, escaped_char_by_char(&s), "{s:?}");
            }
        }
    }
}
