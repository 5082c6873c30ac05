//! `parse`'s field reader: typed fields out of one TOML table, each unknown key and wrong type
//! reported with the table's file and line.

use serde_json::{Number, Value};

use super::super::diagnostics::{Findings, Loc};
use super::super::template::literal;

/// Reads typed fields out of one TOML table, reporting unknown keys and wrong types.
pub(super) struct Reader<'a, 'f, 'c> {
    table: &'a toml::Table,
    loc: Loc,
    findings: &'f mut Findings,
    /// Prefix of messages, e.g. "argument `id`".
    context: &'c str,
    /// A field was present but unusable.
    pub(super) broken: bool,
}

impl<'a, 'f, 'c> Reader<'a, 'f, 'c> {
    pub(super) fn new(table: &'a toml::Table, loc: Loc, findings: &'f mut Findings, allowed: &[&str]) -> Self {
        Self::with_context(table, loc, findings, allowed, "")
    }

    pub(super) fn with_context(
        table: &'a toml::Table,
        loc: Loc,
        findings: &'f mut Findings,
        allowed: &[&str],
        context: &'c str,
    ) -> Self {
        for key in table.keys().filter(|k| !allowed.contains(&k.as_str())) {
            let at = if context.is_empty() { String::new() } else { format!("{context}: ") };
            let known: Vec<String> = allowed.iter().map(|k| format!("`{k}`")).collect();
            findings.error(&loc, format!("{at}unknown key `{key}` (known keys: {})", known.join(", ")));
        }
        Reader { table, loc, findings, context, broken: false }
    }

    pub(super) fn bad<T>(&mut self, key: &str, message: String) -> Option<T> {
        let at = if self.context.is_empty() { String::new() } else { format!("{}: ", self.context) };
        self.findings.error(&self.loc, format!("{at}`{key}` {message}"));
        self.broken = true;
        None
    }

    pub(super) fn value(&self, key: &str) -> Option<&'a toml::Value> {
        self.table.get(key)
    }

    pub(super) fn string(&mut self, key: &str) -> Option<String> {
        match self.value(key)? {
            toml::Value::String(s) => Some(s.clone()),
            _ => self.bad(key, "must be a string".into()),
        }
    }

    pub(super) fn required_string(&mut self, key: &str) -> Option<String> {
        match self.string(key) {
            Some(s) if s.trim().is_empty() => self.bad(key, "must not be empty".into()),
            Some(s) => Some(s),
            None if self.value(key).is_none() => self.bad(key, "is required".into()),
            None => None,
        }
    }

    pub(super) fn boolean(&mut self, key: &str) -> Option<bool> {
        match self.value(key)? {
            toml::Value::Boolean(b) => Some(*b),
            _ => self.bad(key, "must be `true` or `false`".into()),
        }
    }

    pub(super) fn strings(&mut self, key: &str) -> Vec<String> {
        match self.value(key) {
            None => Vec::new(),
            Some(toml::Value::Array(items)) if items.iter().all(toml::Value::is_str) => {
                items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            Some(_) => self.bad(key, "must be an array of strings".into()).unwrap_or_default(),
        }
    }

    pub(super) fn number(&mut self, key: &str) -> Option<Number> {
        match self.json(key)? {
            Value::Number(n) => Some(n),
            _ => self.bad(key, "must be a number".into()),
        }
    }

    pub(super) fn json(&mut self, key: &str) -> Option<Value> {
        match literal(self.value(key)?) {
            Ok(v) => Some(v),
            Err(e) => self.bad(key, e),
        }
    }

    pub(super) fn tables(&mut self, key: &str) -> Vec<&'a toml::Table> {
        match self.value(key) {
            None => Vec::new(),
            Some(toml::Value::Array(items)) if items.iter().all(toml::Value::is_table) => {
                items.iter().filter_map(toml::Value::as_table).collect()
            }
            Some(_) => self.bad(key, "must be an array of tables".into()).unwrap_or_default(),
        }
    }
}
