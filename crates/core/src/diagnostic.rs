//! Problems found in content or configuration, reported as `path:line:col: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is: errors leave a post out, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The post (or file) is left out until it is fixed.
    Error,
    /// The post is served, but something in it was probably meant differently.
    Warning,
}

impl Severity {
    /// The lower-case word printed before a diagnostic.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem in one file, with a 1-based position when it is known.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// The file the problem is in, as it was found (relative to where tidings was started
    /// when the content folder was given relatively).
    pub path: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<u32>,
    /// 1-based column, when the problem has one.
    pub column: Option<u32>,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl Diagnostic {
    /// An error at a position in a file.
    pub fn error(path: &Path, line: Option<u32>, column: Option<u32>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path, line, column, message)
    }

    /// A warning at a position in a file.
    pub fn warning(path: &Path, line: Option<u32>, column: Option<u32>, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path, line, column, message)
    }

    fn new(
        severity: Severity,
        path: &Path,
        line: Option<u32>,
        column: Option<u32>,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            line,
            column: if line.is_some() { column } else { None },
            severity,
            message: message.into(),
        }
    }

    /// True for errors, which keep a post out of the feeds.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `path:line:col: message` — the position parts only when known.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// A list of problems as JSON: `{"errors": N, "warnings": N, "diagnostics": [{path, line,
/// column, severity, message, text}]}`, the shape `/diagnostics` and `check --format json` share.
pub fn to_json(all: &[Diagnostic]) -> serde_json::Value {
    let list: Vec<serde_json::Value> = all
        .iter()
        .map(|d| {
            serde_json::json!({
                "path": d.path.display().to_string(),
                "line": d.line,
                "column": d.column,
                "severity": d.severity.as_str(),
                "message": d.message,
                "text": d.to_string(),
            })
        })
        .collect();
    let errors = all.iter().filter(|d| d.is_error()).count();
    serde_json::json!({ "errors": errors, "warnings": all.len() - errors, "diagnostics": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_only_known_positions() {
        let p = Path::new("content/a.md");
        assert_eq!(Diagnostic::error(p, Some(4), Some(7), "bad").to_string(), "content/a.md:4:7: bad");
        assert_eq!(Diagnostic::error(p, Some(1), None, "bad").to_string(), "content/a.md:1: bad");
        assert_eq!(Diagnostic::error(p, None, Some(3), "bad").to_string(), "content/a.md: bad");
    }
}
