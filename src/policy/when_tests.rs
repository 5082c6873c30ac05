use serde_json::json;

use super::*;

/// 2026-01-03T00:00:00Z, a Saturday.
const SAT: u64 = 1_767_398_400;
const H: u64 = 3_600;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn windows(v: Value) -> Windows {
    Windows::parse(&v).unwrap_or_else(|e| panic!("{e:?}"))
}

fn problems(v: Value) -> Vec<String> {
    Windows::parse(&v).err().unwrap_or_default().into_iter().map(|(at, m)| format!("{at}: {m}")).collect()
}

#[test]
fn the_reference_saturday_is_a_saturday() {
    assert_eq!(DAYS[weekday(SAT / DAY) as usize], "sat");
    assert_eq!(DAYS[weekday(0) as usize], "thu", "1970-01-01");
}

#[test]
fn a_window_is_open_on_its_days_and_hours_only() {
    let w = windows(json!({"days": ["sat", "sun"], "hours": "02:00-06:00"}));
    assert_eq!(w.closed_for(at(SAT + 3 * H)), None);
    assert_eq!(w.closed_for(at(SAT + 2 * H)), None, "the start is inside");
    assert_eq!(
        w.closed_for(at(SAT + 6 * H)),
        Some(Duration::from_secs(20 * H)),
        "the end is outside: sunday 02:00 next"
    );
    assert_eq!(w.closed_for(at(SAT + H)), Some(Duration::from_secs(H)));
    assert_eq!(w.closed_for(at(SAT + DAY + 4 * H)), None, "sunday");
    // Monday 02:30: the next opening is Saturday 02:00.
    assert_eq!(w.closed_for(at(SAT + 2 * DAY + 2 * H + 1_800)), Some(Duration::from_secs(5 * DAY - 1_800)));
    assert_eq!(w.shown(), "sat, sun 02:00-06:00 UTC");
}

#[test]
fn a_span_crossing_midnight_belongs_to_its_starting_day() {
    let w = windows(json!({"days": ["fri"], "hours": "22:00-02:00"}));
    let fri = SAT - DAY;
    assert_eq!(w.closed_for(at(fri + 23 * H)), None);
    assert_eq!(w.closed_for(at(SAT + H)), None, "saturday 01:00 is still friday's window");
    assert_eq!(w.closed_for(at(SAT + 2 * H)), Some(Duration::from_secs(6 * DAY + 20 * H)));
    assert_eq!(w.closed_for(at(SAT + 23 * H)), Some(Duration::from_secs(5 * DAY + 23 * H)), "not saturday night");
}

#[test]
fn days_and_hours_are_optional_and_any_window_may_match() {
    assert_eq!(windows(json!({})).closed_for(at(SAT + 5)), None);
    assert_eq!(windows(json!({"hours": "00:00-24:00"})).closed_for(at(SAT + DAY - 1)), None);
    let weekend = windows(json!({"days": ["sat", "sun"]}));
    assert_eq!(weekend.closed_for(at(SAT - 1)), Some(Duration::from_secs(1)));
    let two = windows(json!([{"days": ["mon"], "hours": "01:00-02:00"}, {"hours": "12:00-13:00"}]));
    assert_eq!(two.closed_for(at(SAT + 12 * H + 30)), None);
    assert_eq!(two.closed_for(at(SAT + 11 * H)), Some(Duration::from_secs(H)));
    assert_eq!(two.shown(), "mon 01:00-02:00 UTC or 12:00-13:00 UTC every day");
}

#[test]
fn the_wait_counts_from_the_exact_instant() {
    let w = windows(json!({"hours": "06:00-07:00"}));
    let now = at(SAT + 5 * H) + Duration::from_millis(250);
    assert_eq!(w.closed_for(now), Some(Duration::from_millis(H * 1_000 - 250)));
}

#[test]
fn bad_windows_are_reported_with_their_paths() {
    assert_eq!(
        problems(
            json!([{"days": ["sat", "saturday"], "hours": "2-6"}, {"days": []}, {"hours": "10:00-10:00"}, "x", {"day": ["mon"]}])
        ),
        [
            "/0/days/1: unknown day `\"saturday\"`; expected one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun`",
            "/0/hours: must be `HH:MM-HH:MM` (UTC, `24:00` allowed as the end), found `\"2-6\"`",
            "/1/days: must be a non-empty array of day names, found an array",
            "/2/hours: must be `HH:MM-HH:MM` (UTC, `24:00` allowed as the end); an empty span never opens, found `\"10:00-10:00\"`",
            "/3: a window must be an object, found a string",
            "/4/day: unknown key `day`; expected `days` or `hours`",
        ]
    );
    assert_eq!(problems(json!([])), [": needs at least one window"]);
    for bad in ["24:00-02:00", "01:60-02:00", "1:00-02:00", "01:00-02:00-03:00", "01:00"] {
        assert_eq!(problems(json!({"hours": bad})).len(), 1, "{bad}");
    }
}
