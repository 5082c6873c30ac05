//! The audit hash chain: how a record is sealed onto it, how a log continues it after a
//! restart, and how `audit verify` checks it.
//!
//! # Definition
//!
//! Each line of the log is the RFC 8785 (JCS) canonical form of one JSON object, then `\n`.
//! Besides the record's own fields it carries:
//!
//! - `seq`: 1 for the first record of a chain, then one more per line, across restarts and
//!   rotated files;
//! - `prev_hash`: the SHA-256 (lowercase hex) of the previous line's bytes (its canonical form
//!   with its `record_hash`, without the newline); `null` for the first record of a chain;
//! - `record_hash`: the SHA-256 (lowercase hex) of the canonical form of this record without
//!   its `record_hash` field (with `seq` and `prev_hash`).
//!
//! So `prev_hash` is what the IETF agent audit trail draft defines (the hash of the previous
//! record's canonical JSON), and `record_hash` lets each line be checked on its own. An edited
//! line no longer matches its `record_hash`; an edited line whose `record_hash` was recomputed
//! no longer matches the next line's `prev_hash`; a removed, repeated or moved line breaks the
//! `seq` count or the links.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::audit::{AuditError, hex, rotated, sha256_hex};
use crate::jcs::{self, JcsError};

/// The longest line the chain reader accepts (a record is well under 4 KiB).
const MAX_LINE: u64 = 1 << 20;

/// Where a chain stands: the last record's `seq` and the SHA-256 of its line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ChainHead {
    pub(crate) seq: u64,
    /// `None` before the first record of a chain.
    pub(crate) hash: Option<String>,
}

/// A record sealed onto the chain: its line (with the newline) and the chain's new head.
pub(crate) struct Sealed {
    pub(crate) line: String,
    pub(crate) head: ChainHead,
}

/// A record's canonical entries (`"key":value`, in RFC 8785 key order), without the chain's
/// fields, cut where those go: before `prev_hash`, between it and `record_hash`, between that and
/// `seq`, and after `seq`. Rendered once, by the record's caller; sealing only splices the chain's
/// fields in and hashes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unsealed {
    parts: [String; 4],
}

/// The chain's fields, in key order: the boundaries of [`Unsealed`]'s parts.
const CHAIN_KEYS: [&str; 3] = ["prev_hash", "record_hash", "seq"];

/// Renders a record's fields for [`seal_unsealed`]; any chain fields in them are left out.
pub(crate) fn unsealed(fields: &Map<String, Value>) -> Result<Unsealed, JcsError> {
    let mut entries: Vec<(&String, &Value)> =
        fields.iter().filter(|(key, _)| !CHAIN_KEYS.contains(&key.as_str())).collect();
    entries.sort_by(|a, b| jcs::key_order(a.0, b.0));
    let mut record = Unsealed::default();
    for (key, value) in entries {
        let part = CHAIN_KEYS.iter().take_while(|chain| jcs::key_order(chain, key).is_lt()).count();
        let out = &mut record.parts[part];
        if !out.is_empty() {
            out.push(',');
        }
        jcs::write_string(key, out);
        out.push(':');
        jcs::write_value(value, out)?;
    }
    Ok(record)
}

/// Adds `seq`, `prev_hash` and `record_hash` to a record's fields and writes its line.
#[cfg(test)]
pub(crate) fn seal(fields: Map<String, Value>, head: &ChainHead) -> Result<Sealed, JcsError> {
    Ok(seal_unsealed(&unsealed(&fields)?, head))
}

/// Seals a rendered record onto the chain after `head`: its line and the chain's new head.
///
/// `record_hash` hashes the canonical form without `record_hash`, the chain hashes the line with
/// it; both begin with the same bytes (everything before `record_hash`), so those are hashed
/// once and the hasher's state is copied for the two endings.
pub(crate) fn seal_unsealed(record: &Unsealed, head: &ChainHead) -> Sealed {
    let seq = head.seq + 1;
    let [before_prev, before_record, before_seq, after_seq] = &record.parts;
    let size: usize = record.parts.iter().map(String::len).sum();
    let mut line = String::with_capacity(size + 256);
    line.push('{');
    if !before_prev.is_empty() {
        line.push_str(before_prev);
        line.push(',');
    }
    line.push_str("\"prev_hash\":");
    match &head.hash {
        // A hash is lowercase hex: a JSON string as it stands.
        Some(hash) => {
            line.push('"');
            line.push_str(hash);
            line.push('"');
        }
        None => line.push_str("null"),
    }
    if !before_record.is_empty() {
        line.push(',');
        line.push_str(before_record);
    }
    // What follows `record_hash`, the same in both forms.
    let mut rest = String::with_capacity(before_seq.len() + after_seq.len() + 32);
    if !before_seq.is_empty() {
        rest.push(',');
        rest.push_str(before_seq);
    }
    rest.push_str(",\"seq\":");
    rest.push_str(&seq.to_string());
    if !after_seq.is_empty() {
        rest.push(',');
        rest.push_str(after_seq);
    }
    rest.push('}');

    let mut common = Sha256::new();
    common.update(line.as_bytes());
    let mut unsealed = common.clone();
    unsealed.update(rest.as_bytes());
    let record_hash = hex(&unsealed.finalize());

    let sealed_from = line.len();
    line.push_str(",\"record_hash\":\"");
    line.push_str(&record_hash);
    line.push('"');
    line.push_str(&rest);
    common.update(&line.as_bytes()[sealed_from..]);
    let hash = hex(&common.finalize());
    line.push('\n');
    Sealed { line, head: ChainHead { seq, hash: Some(hash) } }
}

/// One line that holds up on its own: canonical, with a matching `record_hash`.
#[derive(Debug)]
struct Checked {
    seq: u64,
    prev: Option<String>,
    /// SHA-256 of the line: what the next line's `prev_hash` must be.
    hash: String,
    record: Map<String, Value>,
}

/// Checks one line (without its newline) on its own.
fn check_line(line: &str) -> Result<Checked, String> {
    let record: Map<String, Value> = match serde_json::from_str(line) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err("not a JSON object".into()),
        Err(_) if line.is_empty() => return Err("an empty line".into()),
        Err(_) => return Err("not valid JSON (cut short or edited)".into()),
    };
    let canonical = jcs::to_string(&Value::Object(record.clone())).map_err(|e| e.to_string())?;
    if canonical != line {
        return Err("not in canonical form (edited by hand, or not written by truenas-mcp)".into());
    }
    let seq = match record.get("seq").and_then(Value::as_u64) {
        Some(seq) if seq >= 1 => seq,
        _ => return Err("no `seq` (not a chained audit record)".into()),
    };
    let prev = match record.get("prev_hash") {
        Some(Value::Null) => None,
        Some(Value::String(h)) if is_sha256_hex(h) => Some(h.clone()),
        _ => return Err("no valid `prev_hash`".into()),
    };
    let Some(Value::String(claimed)) = record.get("record_hash") else {
        return Err("no `record_hash`".into());
    };
    let mut body = record.clone();
    body.remove("record_hash");
    let actual = sha256_hex(jcs::to_string(&Value::Object(body)).map_err(|e| e.to_string())?.as_bytes());
    if &actual != claimed {
        return Err("`record_hash` does not match the record: the line was edited".into());
    }
    Ok(Checked { seq, prev, hash: sha256_hex(line.as_bytes()), record })
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the chain of the log at `path` stands: its last line, or the last line of its newest
/// rotated file when it is empty, or a new chain when there is neither. A damaged last line is
/// an error: appending after it would fork the chain.
pub(crate) fn resume(path: &Path) -> Result<ChainHead, AuditError> {
    for candidate in [path.to_path_buf(), rotated(path, 1)] {
        let tail = |reason: String| AuditError::Tail { path: candidate.display().to_string(), reason };
        match last_line(&candidate).map_err(tail)? {
            Some(line) => {
                let checked = check_line(&line).map_err(tail)?;
                return Ok(ChainHead { seq: checked.seq, hash: Some(checked.hash) });
            }
            None => continue,
        }
    }
    Ok(ChainHead::default())
}

/// The last line of a regular file, without its newline; `None` for a missing, empty or
/// special file.
fn last_line(path: &Path) -> Result<Option<String>, String> {
    let Ok(mut file) = std::fs::File::open(path) else { return Ok(None) };
    let len = match file.metadata() {
        Ok(meta) if meta.is_file() => meta.len(),
        _ => return Ok(None),
    };
    if len == 0 {
        return Ok(None);
    }
    let want = len.min(MAX_LINE + 1);
    file.seek(SeekFrom::Start(len - want)).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(want as usize);
    file.read_to_end(&mut buf).map_err(|e| e.to_string())?;
    if buf.last() != Some(&b'\n') {
        return Err("the last line has no newline: it was cut short".into());
    }
    buf.pop();
    let start = match buf.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None if want == len => 0,
        None => return Err("the last line is longer than 1 MiB".into()),
    };
    String::from_utf8(buf.split_off(start)).map(Some).map_err(|_| "the last line is not UTF-8".into())
}

/// Where `audit verify` found the chain broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {problem}")]
pub struct ChainBreak {
    /// The file, as given.
    pub file: String,
    /// The line number in it (1-based); 0 when the file itself cannot be read.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// What an intact chain holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChainSummary {
    /// Files read.
    pub files: usize,
    /// Records checked.
    pub records: u64,
    /// The first and last `seq`.
    pub seqs: Option<(u64, u64)>,
    /// The `prev_hash` of the first record: `None` when the chain starts there; otherwise
    /// the chain continues an earlier file that was not given.
    pub starts_after: Option<String>,
    /// The SHA-256 of the last line: keep it elsewhere to detect a later cut at the end.
    pub head: Option<String>,
    /// The first and last `timestamp`.
    pub span: Option<(String, String)>,
    /// Records by `action_type` and `outcome`.
    pub by_kind: BTreeMap<(String, String), u64>,
    /// Records by `decision` (`none` when the policy was not asked).
    pub by_decision: BTreeMap<String, u64>,
    /// Records by `agent_id` (the grant).
    pub by_grant: BTreeMap<String, u64>,
}

/// Checks the chain across `files`, in the order given (oldest first: `audit.jsonl.2
/// audit.jsonl.1 audit.jsonl`). The first problem found ends the check.
pub fn verify(files: &[PathBuf]) -> Result<ChainSummary, ChainBreak> {
    let mut summary = ChainSummary { files: files.len(), ..ChainSummary::default() };
    let mut head: Option<(u64, String)> = None;
    for path in files {
        let file = path.display().to_string();
        let at = |line: usize, problem: String| ChainBreak { file: file.clone(), line, problem };
        let bytes = std::fs::read(path).map_err(|e| at(0, format!("cannot read it: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|_| at(0, "not UTF-8 text".into()))?;
        let lines = text.lines().count();
        // A last line without its newline was cut short (a crash mid-write, or truncation).
        let cut = !text.is_empty() && !text.ends_with('\n');
        verify_lines(&text, &mut head, &mut summary, &at, if cut { lines - 1 } else { lines })?;
        if cut {
            let cut_short = "the last line has no newline: it was cut short";
            let problem = match check_line(text.lines().last().unwrap_or_default()) {
                Err(p) => format!("{p}; {cut_short}"),
                Ok(_) => cut_short.to_string(),
            };
            return Err(at(lines, problem));
        }
    }
    Ok(summary)
}

/// Checks the first `count` lines of one file against the chain so far.
fn verify_lines(
    text: &str,
    head: &mut Option<(u64, String)>,
    summary: &mut ChainSummary,
    at: &dyn Fn(usize, String) -> ChainBreak,
    count: usize,
) -> Result<(), ChainBreak> {
    for (i, line) in text.lines().take(count).enumerate() {
        let n = i + 1;
        let checked = check_line(line).map_err(|p| at(n, p))?;
        match head.as_ref() {
            None => {
                if checked.prev.is_none() && checked.seq != 1 {
                    return Err(at(n, format!("the chain starts (`prev_hash` null) at seq {}, not 1", checked.seq)));
                }
                summary.starts_after = checked.prev.clone();
            }
            Some((seq, hash)) => {
                let want = seq + 1;
                if checked.seq == *seq {
                    return Err(at(n, format!("seq {} appears twice: a duplicated line", checked.seq)));
                }
                if checked.seq < *seq {
                    return Err(at(n, format!("seq {} after seq {seq}: lines are out of order", checked.seq)));
                }
                if checked.seq != want {
                    return Err(at(
                        n,
                        format!("expected seq {want}, found {}: a record is missing or out of order", checked.seq),
                    ));
                }
                if checked.prev.as_deref() != Some(hash.as_str()) {
                    return Err(at(
                        n,
                        "`prev_hash` does not match the line before it: that line was changed or replaced".into(),
                    ));
                }
            }
        }
        summary.add(&checked);
        *head = Some((checked.seq, checked.hash));
    }
    Ok(())
}

impl ChainSummary {
    fn add(&mut self, checked: &Checked) {
        let text = |key: &str| match checked.record.get(key) {
            Some(Value::String(s)) => s.clone(),
            _ => "none".to_string(),
        };
        self.records += 1;
        self.seqs = Some((self.seqs.map_or(checked.seq, |s| s.0), checked.seq));
        self.head = Some(checked.hash.clone());
        let time = text("timestamp");
        self.span = Some(match self.span.take() {
            None => (time.clone(), time),
            Some((first, _)) => (first, time),
        });
        *self.by_kind.entry((text("action_type"), text("outcome"))).or_default() += 1;
        *self.by_decision.entry(text("decision")).or_default() += 1;
        *self.by_grant.entry(text("agent_id")).or_default() += 1;
    }
}

impl fmt::Display for ChainSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "chain intact: {} record(s) in {} file(s)", self.records, self.files)?;
        if let Some((first, last)) = self.seqs {
            writeln!(f, "  seq:       {first}..{last}")?;
        }
        match &self.starts_after {
            None => writeln!(f, "  starts:    at the beginning of the chain")?,
            Some(h) => writeln!(f, "  starts:    after a record not given (prev_hash {h})")?,
        }
        if let Some(head) = &self.head {
            writeln!(f, "  head:      {head} (SHA-256 of the last line)")?;
        }
        if let Some((first, last)) = &self.span {
            writeln!(f, "  time:      {first} .. {last}")?;
        }
        let join = |m: Vec<String>| if m.is_empty() { "-".to_string() } else { m.join(", ") };
        let decisions = self.by_decision.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(f, "  decisions: {}", join(decisions))?;
        let grants = self.by_grant.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(f, "  grants:    {}", join(grants))?;
        writeln!(f, "  by kind and outcome:")?;
        for ((kind, outcome), n) in &self.by_kind {
            writeln!(f, "    {kind:<10} {outcome:<10} {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "audit_chain_tests.rs"]
mod tests;
