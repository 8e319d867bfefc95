//! Calling liquid-rust safely: panics caught quietly, errors as one-line problem messages.

use std::panic::{AssertUnwindSafe, catch_unwind};

use liquid_core::{Error, Language, Renderable};

/// At most 60 characters of `s` on one line, for messages.
pub(super) fn snippet(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

/// A liquid error in one line: pest's "expected …" line when there is one, else the message and its context.
pub(super) fn brief(err: &Error) -> String {
    let text = err.to_string();
    let text = text.strip_prefix("liquid: ").unwrap_or(&text);
    let expected = text.lines().map(str::trim).find_map(|l| l.strip_prefix("= "));
    let line = match expected {
        Some(l) => l.to_owned(),
        None => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("from:") && *l != "with:")
            .collect::<Vec<_>>()
            .join(", "),
    };
    snippet_n(&line, 200)
}

fn snippet_n(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

thread_local! {
    /// Set while [`caught`] runs liquid-lib on this thread.
    pub(super) static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs liquid-lib's `f`, catching a panic without the panic hook printing it: the caller
/// reports it as the post's problem, which is logged once per post, where the hook printed a
/// message and backtrace on every render. Panics elsewhere print as before.
pub(super) fn caught<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let before = QUIET.with(|quiet| quiet.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(before));
    result
}

pub(super) fn parse_only(src: &str, lang: &Language) -> liquid_core::Result<Vec<Box<dyn Renderable>>> {
    match caught(|| liquid_core::parser::parse(src, lang)) {
        Ok(r) => r,
        Err(_) => Err(Error::with_msg("internal error in the Liquid parser")),
    }
}

/// Parses a chunk; the error is a problem message (`label`: the markup as written, for a single piece).
pub(super) fn parse_guarded(
    src: &str,
    lang: &Language,
    label: Option<&str>,
) -> Result<Vec<Box<dyn Renderable>>, String> {
    parse_only(src, lang).map_err(|e| match label {
        Some(markup) => format!("invalid Liquid `{}`: {}; removed", snippet(markup), brief(&e)),
        None => format!("Liquid syntax error: {}; the Liquid markup of this part was removed", brief(&e)),
    })
}

#[cfg(test)]
mod tests {
    use super::{QUIET, caught};

    #[test]
    fn a_caught_panic_is_quiet_only_while_liquid_lib_runs() {
        // Issue 25, finding 16: each render printed a backtrace for the same post's panic.
        assert!(caught(|| QUIET.with(std::cell::Cell::get)).unwrap(), "the hook stays quiet inside");
        assert!(caught(|| panic!("inside liquid-lib")).is_err());
        assert!(!QUIET.with(std::cell::Cell::get), "other panics print as before");
    }
}
