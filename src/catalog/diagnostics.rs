//! What loading the catalog found wrong: errors (the catalog is refused) apart from warnings
//! (it loads), each located by file, line and action.

use std::fmt;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The catalog is refused.
    Error,
    /// The catalog loads; the finding should still be fixed.
    Warning,
}

/// One finding of the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The source file, e.g. `vm.toml`.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The action concerned, if any.
    pub action: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.severity == Severity::Warning {
            f.write_str(": warning")?;
        }
        if let Some(action) = &self.action {
            write!(f, ": action `{action}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// The catalog could not be loaded: every error found, and the warnings beside them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the tool catalog has {} error(s):\n{}", .errors.len(), .errors.iter().map(|d| format!("  {d}")).collect::<Vec<_>>().join("\n"))]
pub struct CatalogError {
    /// Every error, in source order.
    pub errors: Vec<Diagnostic>,
    /// Every warning, in source order.
    pub warnings: Vec<Diagnostic>,
}

/// Where a finding is, while loading.
#[derive(Debug, Clone, Default)]
pub(crate) struct Loc {
    pub(crate) file: String,
    pub(crate) line: Option<usize>,
    pub(crate) action: Option<String>,
}

impl Loc {
    pub(crate) fn file(file: &str) -> Loc {
        Loc { file: file.into(), line: None, action: None }
    }

    pub(crate) fn at(&self, line: Option<usize>) -> Loc {
        Loc { line: line.or(self.line), ..self.clone() }
    }

    pub(crate) fn action(&self, name: &str) -> Loc {
        Loc { action: Some(name.into()), ..self.clone() }
    }
}

/// Collects findings while loading.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) all: Vec<Diagnostic>,
}

impl Findings {
    pub(crate) fn error(&mut self, loc: &Loc, message: impl Into<String>) {
        self.push(Severity::Error, loc, message.into());
    }

    pub(crate) fn warning(&mut self, loc: &Loc, message: impl Into<String>) {
        self.push(Severity::Warning, loc, message.into());
    }

    fn push(&mut self, severity: Severity, loc: &Loc, message: String) {
        self.all.push(Diagnostic {
            severity,
            file: loc.file.clone(),
            line: loc.line,
            action: loc.action.clone(),
            message,
        });
    }

    /// Splits into errors and warnings.
    pub(crate) fn split(self) -> (Vec<Diagnostic>, Vec<Diagnostic>) {
        self.all.into_iter().partition(|d| d.severity == Severity::Error)
    }
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(source: &str, offset: usize) -> usize {
    LineIndex::new(source).line(offset)
}

/// Where a text's lines start, found once, so that many offsets (one per action and argument
/// of a tools file) each find their line by binary search rather than by rescanning the text.
pub(crate) struct LineIndex {
    /// Byte offsets of every `\n`, in order.
    newlines: Vec<usize>,
}

impl LineIndex {
    /// Indexes `source`.
    pub(crate) fn new(source: &str) -> LineIndex {
        LineIndex { newlines: source.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i).collect() }
    }

    /// The 1-based line of a byte offset: one more than the newlines before it.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&at| at < offset) + 1
    }
}

#[cfg(test)]
mod line_tests {
    use super::*;

    #[test]
    fn offsets_find_their_one_based_lines() {
        let text = "a = 1\nb = 2\n\nc = 3";
        let index = LineIndex::new(text);
        for (offset, line) in [(0, 1), (5, 1), (6, 2), (12, 3), (13, 4), (text.len(), 4)] {
            assert_eq!(index.line(offset), line, "offset {offset}");
            assert_eq!(line_of(text, offset), line, "offset {offset}");
        }
    }
}
