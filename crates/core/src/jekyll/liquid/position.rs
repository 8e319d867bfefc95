//! Where markup is in a post body or in an include, as problems report it.

use std::sync::Arc;

/// Where a piece of markup is, as reported: body line and column, and for markup inside an include a prefix that
/// names the include and the place in it.
#[derive(Debug)]
pub(super) struct Where {
    pub(super) line: u32,
    pub(super) column: u32,
    pub(super) prefix: String,
}

pub(super) type At = Arc<Where>;

/// A text being prepared: the body, or an include's text seen through the `include` tag that brought it in.
pub(super) struct Source<'s> {
    pub(super) src: &'s str,
    line_starts: Vec<usize>,
    pub(super) outer: Option<Where>,
    pub(super) depth: usize,
    /// The last position asked for (offset, column): positions come in order, so counting goes on from there.
    pub(super) last: std::cell::Cell<(usize, usize)>,
}

impl<'s> Source<'s> {
    pub(super) fn new(src: &'s str, outer: Option<Where>, depth: usize) -> Self {
        let line_starts = std::iter::once(0).chain(src.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Source { src, line_starts, outer, depth, last: std::cell::Cell::new((0, 1)) }
    }

    pub(super) fn at(&self, offset: usize) -> At {
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let (last, last_column) = self.last.get();
        let (from, base) = if last >= start && last <= offset { (last, last_column) } else { (start, 1) };
        let column = base + self.src.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set((offset, column));
        let (line, column) = (to_u32(line), to_u32(column));
        Arc::new(match &self.outer {
            None => Where { line, column, prefix: String::new() },
            Some(o) => {
                Where { line: o.line, column: o.column, prefix: format!("{}line {line}, column {column}: ", o.prefix) }
            }
        })
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use crate::jekyll::liquid::tests::run;

    #[test]
    fn columns_count_characters_on_long_lines() {
        let body = format!("{}{{% a %}}é{{% b %}}\nxy{{% c %}}", "é".repeat(5000));
        let out = run(&body);
        let at: Vec<_> = out.problems.iter().map(|p| (p.line, p.column)).collect();
        assert_eq!(at, [(1, 5001), (1, 5009), (2, 3)]);
        assert!(out.problems.iter().all(|p| p.message.contains("unknown Liquid tag")));
    }
}
