//! The one place that calls the YAML parser (serde-saphyr), turning its errors into
//! diagnostics that point at lines of the file the YAML came from.

use std::path::Path;

use serde::{Deserialize, Deserializer};
use serde_saphyr::options::DuplicateKeyPolicy;

use crate::diagnostic::Diagnostic;

/// A 1-based line and column inside a YAML document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    /// 1-based line within the YAML text.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

/// A value with the position it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where the value starts in the YAML text.
    pub location: Loc,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(Spanned {
            value: inner.value,
            location: Loc { line: inner.referenced.line() as u32, column: inner.referenced.column() as u32 },
        })
    }
}

/// Deserializes `text`; `line_offset` is the number of file lines before the YAML starts
/// (1 for front matter after its opening `---`), so errors name lines of the file.
pub fn from_str<T: for<'de> Deserialize<'de>>(text: &str, path: &Path, line_offset: u32) -> Result<T, Diagnostic> {
    parse(text, path, line_offset, false)
}

/// [`from_str`] for a post's front matter, typed closer to Jekyll's YAML reader (Ruby's Psych):
/// only `true` and `false` are booleans to the parser, so that `y` and `n` stay text (YAML 1.1
/// booleans to serde-saphyr, strings to Psych); `yes`, `no`, `on` and `off` arrive as text too,
/// and the fields that want a flag read them as Psych does ([`psych_bool`]).
pub fn front_matter_from_str<T: for<'de> Deserialize<'de>>(text: &str, path: &Path) -> Result<T, Diagnostic> {
    parse(text, path, 1, true)
}

/// The boolean Psych reads a scalar as, for one the parser of [`front_matter_from_str`] gave as
/// text: `yes`, `on`, `no`, `off` in any case, and `true`/`false` in spellings YAML 1.2 does
/// not know (`tRuE`); `None` for any other text, and for `true`/`false` as YAML 1.2 spells
/// them, which arrive as text only when quoted (a string to Psych too). A quoted `"yes"` is
/// read as `true`: the parser does not say it was quoted.
pub fn psych_bool(text: &str) -> Option<bool> {
    if matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE") {
        return None;
    }
    let is = |words: [&str; 3]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if is(["yes", "true", "on"]) {
        Some(true)
    } else if is(["no", "false", "off"]) {
        Some(false)
    } else {
        None
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    text: &str,
    path: &Path,
    line_offset: u32,
    strict: bool,
) -> Result<T, Diagnostic> {
    // Jekyll's YAML reader keeps the last of duplicate keys; so does tidings.
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = DuplicateKeyPolicy::LastWins;
    options.strict_booleans = strict;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let message = plain_message(&e);
        match e.location() {
            Some(loc) if loc.line() > 0 => Diagnostic::error(
                path,
                Some(loc.line() as u32 + line_offset),
                Some(loc.column().max(1) as u32),
                message,
            ),
            _ => Diagnostic::error(path, Some(line_offset + 1), None, message),
        }
    })
}

/// An error at `loc` inside YAML that starts after `line_offset` lines of its file.
pub fn diagnostic_at(path: &Path, line_offset: u32, loc: &Loc, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(path, Some(loc.line + line_offset), Some(loc.column), message)
}

/// A warning at `loc` inside YAML that starts after `line_offset` lines of its file.
pub fn warning_at(path: &Path, line_offset: u32, loc: &Loc, message: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(path, Some(loc.line + line_offset), Some(loc.column), message)
}

/// The parser's message alone: one line, without its own position or source snippet.
fn plain_message(error: &serde_saphyr::Error) -> String {
    let text = error.to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid YAML").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // Drop a "line N column M: " prefix or " at line N column M" suffix: it counts lines of
    // the YAML alone, and the diagnostic's own position (in file lines) already says it.
    let first = match first.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((position, rest)) if position.split(' ').all(|w| w == "column" || w.parse::<u32>().is_ok()) => rest,
        _ => first,
    };
    let first = match first.rfind(" at line ") {
        Some(i) => &first[..i],
        None => first,
    };
    format!("invalid YAML: {first}")
}
