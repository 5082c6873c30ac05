//! Tests of `api_keys.rs`.

#[test]
fn datetimes_parse_as_rfc_3339() {
    use crate::account::api_keys::parse_datetime;
    assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_datetime("2026-03-01T12:30:00Z"), Some(1_772_368_200_000));
    assert_eq!(parse_datetime("2026-03-01T14:30:00.250+02:00"), Some(1_772_368_200_000));
    assert_eq!(parse_datetime("2026-13-01T00:00:00Z"), None);
    assert_eq!(parse_datetime("yesterday"), None);
}
