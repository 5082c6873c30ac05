//! Extension `x-when`: maintenance windows. A `tools` entry or a risk default with `x-when`
//! allows calls only inside one of its windows (UTC weekdays and hours); outside, the call is
//! denied with the seconds until the next window opens.
//!
//! A window is `{"days": ["sat", "sun"], "hours": "02:00-06:00"}`: `days` optional (every day),
//! `hours` optional (all day), `24:00` allowed as an end. A span that crosses midnight
//! (`22:00-02:00`) belongs to the day it starts on: `{"days": ["fri"], "hours": "22:00-02:00"}`
//! is open from Friday 22:00 to Saturday 02:00.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::predicate::article;

/// Day names as documents write them, Monday first.
pub(crate) const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const DAY: u64 = 86_400;

/// The compiled windows of one `x-when`; any one may let a call through.
#[derive(Debug, Clone)]
pub(crate) struct Windows {
    spans: Vec<Span>,
    /// The windows as written, for messages: `sat, sun 02:00-06:00 UTC`.
    shown: String,
}

/// One window: on which weekdays it opens, and from when to when (seconds from that day's
/// midnight; `end` past a day for a span crossing midnight).
#[derive(Debug, Clone, Copy)]
struct Span {
    /// Bit `i` set: open on `DAYS[i]`.
    days: u8,
    start: u64,
    end: u64,
}

/// A problem in an `x-when` value: the JSON Pointer below the `x-when` key (`""`, `/0/days/1`)
/// and the message.
pub(crate) type WhenProblem = (String, String);

impl Windows {
    /// Reads an `x-when` value (one window or a non-empty array of them), reporting every
    /// problem with its path below the `x-when` key.
    pub(crate) fn parse(value: &Value) -> Result<Windows, Vec<WhenProblem>> {
        let mut problems = Vec::new();
        let mut spans = Vec::new();
        let mut shown = Vec::new();
        let items: Vec<(String, &Value)> = match value {
            Value::Array(items) if items.is_empty() => {
                return Err(vec![(String::new(), "needs at least one window".to_owned())]);
            }
            Value::Array(items) => items.iter().enumerate().map(|(i, v)| (format!("/{i}"), v)).collect(),
            other => vec![(String::new(), other)],
        };
        for (at, item) in items {
            match window(item, &at, &mut problems) {
                Some((span, text)) => {
                    spans.push(span);
                    shown.push(text);
                }
                None => continue,
            }
        }
        if problems.is_empty() { Ok(Windows { spans, shown: shown.join(" or ") }) } else { Err(problems) }
    }

    /// The windows as written, for messages (`sat 02:00-06:00 UTC or sun 02:00-06:00 UTC`).
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// `None` when a window is open at `now`; otherwise the time until the next one opens.
    pub(crate) fn closed_for(&self, now: SystemTime) -> Option<Duration> {
        // A clock before 1970 is read as 1970: still a time at which windows are decided.
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = now.as_secs();
        let (day, of_day) = (secs / DAY, secs % DAY);
        if self.spans.iter().any(|s| s.open_at(day, of_day)) {
            return None;
        }
        let next = self
            .spans
            .iter()
            .filter_map(|s| {
                // The next start after now: within a week, since every span opens on some day.
                (0..=7).map(|k| day + k).find(|&d| s.opens_on(d) && d * DAY + s.start > secs).map(|d| d * DAY + s.start)
            })
            .min()
            // INVARIANT: every span has at least one day, so a start within eight days exists.
            .unwrap_or(secs + 7 * DAY);
        Some(Duration::from_secs(next - secs).saturating_sub(Duration::from_nanos(u64::from(now.subsec_nanos()))))
    }
}

impl Span {
    fn opens_on(&self, day: u64) -> bool {
        self.days & (1 << weekday(day)) != 0
    }

    /// Open at second `of_day` of day `day`: in today's span, or in yesterday's crossing one.
    fn open_at(&self, day: u64, of_day: u64) -> bool {
        let today = self.opens_on(day) && (self.start..self.end).contains(&of_day);
        let from_yesterday = day > 0 && self.opens_on(day - 1) && (self.start..self.end).contains(&(of_day + DAY));
        today || from_yesterday
    }
}

/// Monday = 0 for a day number counted from 1970-01-01 (a Thursday).
pub(crate) fn weekday(day: u64) -> u64 {
    (day + 3) % 7
}

/// One window object; problems go to `problems` with their paths.
fn window(v: &Value, at: &str, problems: &mut Vec<WhenProblem>) -> Option<(Span, String)> {
    let Some(map) = v.as_object() else {
        problems.push((at.to_owned(), format!("a window must be an object, found {}", article(v))));
        return None;
    };
    let before = problems.len();
    for key in map.keys().filter(|k| !matches!(k.as_str(), "days" | "hours")) {
        problems.push((format!("{at}/{key}"), format!("unknown key `{key}`; expected `days` or `hours`")));
    }
    let days = days(map, at, problems);
    let hours = hours(map, at, problems);
    if problems.len() > before {
        return None;
    }
    let (mask, day_text) = days?;
    let (start, end, hour_text) = hours?;
    let text = match (day_text, hour_text) {
        (None, None) => "any time".to_owned(),
        (Some(d), None) => format!("{d} (all day, UTC)"),
        (None, Some(h)) => format!("{h} UTC every day"),
        (Some(d), Some(h)) => format!("{d} {h} UTC"),
    };
    Some((Span { days: mask, start, end }, text))
}

type Days = (u8, Option<String>);

fn days(map: &Map<String, Value>, at: &str, problems: &mut Vec<WhenProblem>) -> Option<Days> {
    let Some(v) = map.get("days") else { return Some((0x7f, None)) };
    let at = format!("{at}/days");
    let Some(items) = v.as_array().filter(|items| !items.is_empty()) else {
        problems.push((at, format!("must be a non-empty array of day names, found {}", article(v))));
        return None;
    };
    let mut mask = 0u8;
    let mut names = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(|s| DAYS.iter().position(|d| *d == s)) {
            Some(bit) => {
                mask |= 1 << bit;
                names.push(DAYS[bit]);
            }
            None => problems.push((
                format!("{at}/{i}"),
                format!("unknown day {}; expected one of `{}`", shown(item), DAYS.join("`, `")),
            )),
        }
    }
    Some((mask, Some(names.join(", "))))
}

type Hours = (u64, u64, Option<String>);

fn hours(map: &Map<String, Value>, at: &str, problems: &mut Vec<WhenProblem>) -> Option<Hours> {
    let Some(v) = map.get("hours") else { return Some((0, DAY, None)) };
    let at = format!("{at}/hours");
    let bad = |why: &str| format!("must be `HH:MM-HH:MM` (UTC, `24:00` allowed as the end){why}, found {}", shown(v));
    let Some(text) = v.as_str() else {
        problems.push((at, bad("")));
        return None;
    };
    let parsed = text.split_once('-').and_then(|(a, b)| Some((clock(a, false)?, clock(b, true)?)));
    match parsed {
        None => {
            problems.push((at, bad("")));
            None
        }
        Some((start, end)) if start == end => {
            problems.push((at, bad("; an empty span never opens")));
            None
        }
        // A span crossing midnight ends on the next day.
        Some((start, end)) => Some((start, if end < start { end + DAY } else { end }, Some(text.to_owned()))),
    }
}

/// `HH:MM` as seconds from midnight; `24:00` only as an end.
fn clock(s: &str, end: bool) -> Option<u64> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(DAY),
        (0..=23, 0..=59) => Some(h * 3_600 + m * 60),
        _ => None,
    }
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => format!("`{v}`"),
        other => article(other),
    }
}

/// The schema of an `x-when` value (the loader reads the JSON itself): one window or a list of
/// windows, any of which may match.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "describes the schema; the loader reads the JSON")]
pub(crate) enum When {
    /// One window.
    One(TimeWindow),
    /// Several windows; a call inside any one is in its window.
    Any(#[schemars(length(min = 1))] Vec<TimeWindow>),
}

/// A maintenance window in UTC.
#[derive(schemars::JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
#[allow(dead_code, reason = "describes the schema; the loader reads the JSON")]
pub(crate) struct TimeWindow {
    /// Weekdays the window opens on (default: every day).
    #[schemars(length(min = 1))]
    days: Option<Vec<Day>>,
    /// `HH:MM-HH:MM` in UTC (default: all day); `24:00` may end a span; a span crossing
    /// midnight (`22:00-02:00`) belongs to the day it starts on.
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"))]
    hours: Option<String>,
}

/// A weekday.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "describes the schema; the loader reads the JSON")]
pub(crate) enum Day {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

#[cfg(test)]
#[path = "when_tests.rs"]
mod tests;
