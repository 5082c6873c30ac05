//! `audit show`: the records of audit files as an aligned table, filtered by action,
//! decision, grant and time. Reads any line that is a record; checking the chain is
//! `audit verify`'s job.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Which records to show; `None` matches every record.
#[derive(Debug, Clone, Default)]
pub struct ShowFilter {
    /// Only this action.
    pub action: Option<String>,
    /// Only this decision (`allow` or `deny`).
    pub decision: Option<String>,
    /// Only records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only this grant (`agent_id`).
    pub grant: Option<String>,
}

/// `audit show` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ShowError {
    /// `--since` is neither a time nor a duration.
    #[error("--since `{0}` is neither an RFC 3339 time (2026-01-31T12:00:00Z) nor a duration (90s, 15m, 2h, 7d)")]
    Since(String),
    /// A file cannot be read.
    #[error("cannot read `{path}`: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// `--since`: an RFC 3339 time, or a duration back from `now` (`90s`, `15m`, `2h`, `7d`).
pub fn parse_since(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ShowError> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    let error = || ShowError::Since(text.to_string());
    let unit = text.chars().last().ok_or_else(error)?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(error()),
    };
    let count: u64 = text[..text.len() - 1].parse().map_err(|_| error())?;
    let back = count.checked_mul(scale).map(Duration::from_secs).ok_or_else(error)?;
    now.checked_sub(time::Duration::try_from(back).map_err(|_| error())?).ok_or_else(error)
}

/// The table of matching records in `files`, and a note for each line that is not a record.
pub fn show(files: &[PathBuf], filter: &ShowFilter) -> Result<(String, Vec<String>), ShowError> {
    let header = ["TIME", "GRANT", "ACTION", "METHOD", "DECISION", "OUTCOME", "RULE", "REQUEST"].map(String::from);
    let mut rows = vec![header];
    let mut notes = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ShowError::Read { path: path.display().to_string(), source })?;
        for (i, line) in text.lines().enumerate() {
            match serde_json::from_str::<Value>(line) {
                Ok(record @ Value::Object(_)) => {
                    if filter.matches(&record) {
                        rows.push(row(&record));
                    }
                }
                _ => notes.push(format!("{}:{}: not a record, skipped", path.display(), i + 1)),
            }
        }
    }
    Ok((table(&rows), notes))
}

impl ShowFilter {
    fn matches(&self, record: &Value) -> bool {
        let is = |key: &str, want: &Option<String>| want.as_ref().is_none_or(|w| record[key].as_str() == Some(w));
        let recent = self.since.is_none_or(|since| {
            // A record without a readable time cannot be shown to be recent enough.
            record["timestamp"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .is_some_and(|t| t >= since)
        });
        is("action", &self.action) && is("decision", &self.decision) && is("agent_id", &self.grant) && recent
    }
}

fn row(record: &Value) -> [String; 8] {
    let field = |key: &str| match &record[key] {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    };
    let mut request = field("request_id");
    request.truncate(8);
    // Whole seconds are enough to read; the file has the rest.
    let mut time = field("timestamp");
    if let Some(dot) = time.find('.') {
        time.replace_range(dot..time.len() - 1, "");
    }
    [
        time,
        field("agent_id"),
        field("action"),
        field("method"),
        field("decision"),
        field("outcome"),
        field("rule"),
        request,
    ]
}

fn table(rows: &[[String; 8]]) -> String {
    let mut widths = [0usize; 8];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-01-01T12:00:00Z", &Rfc3339).unwrap()
    }

    #[test]
    fn since_takes_a_time_or_a_duration_back_from_now() {
        let at = |t: &str| OffsetDateTime::parse(t, &Rfc3339).unwrap();
        assert_eq!(parse_since("2025-12-31T00:00:00Z", now()).unwrap(), at("2025-12-31T00:00:00Z"));
        assert_eq!(parse_since("1h", now()).unwrap(), at("2026-01-01T11:00:00Z"));
        assert_eq!(parse_since("2d", now()).unwrap(), at("2025-12-30T12:00:00Z"));
        assert_eq!(parse_since("90s", now()).unwrap(), at("2026-01-01T11:58:30Z"));
        for bad in ["", "h", "1w", "yesterday", "-1h", "99999999999999999999d"] {
            assert!(parse_since(bad, now()).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_match_on_every_given_field() {
        let record = serde_json::json!({
            "timestamp": "2026-01-01T11:30:00.123Z", "action": "vm_stop", "decision": "deny", "agent_id": "stdio",
        });
        let all = ShowFilter::default();
        assert!(all.matches(&record));
        let some = |f: fn(&mut ShowFilter)| {
            let mut filter = ShowFilter::default();
            f(&mut filter);
            filter.matches(&record)
        };
        assert!(some(|f| f.action = Some("vm_stop".into())));
        assert!(!some(|f| f.action = Some("vm_start".into())));
        assert!(!some(|f| f.decision = Some("allow".into())));
        assert!(!some(|f| f.grant = Some("cli".into())));
        assert!(some(|f| f.since = parse_since("1h", now()).ok()));
        assert!(!some(|f| f.since = parse_since("10m", now()).ok()));
        assert_eq!(row(&record)[0], "2026-01-01T11:30:00Z");
    }
}
