//! The language: liquid-rust's standard tags and filters, wrapped in guards and meters, plus Jekyll's filters
//! and our limit tags.

use std::io::Write;
use std::sync::LazyLock;

use liquid_core::parser::{BlockReflection, ParseBlock, ParseFilter, ParseTag, TagBlock, TagReflection, TagTokenIter};
use liquid_core::{Language, Renderable, Runtime};
use liquid_lib::stdlib;

use super::filters::{JEKYLL_FILTERS, JKind, JekyllFilter, UNSUPPORTED_FILTERS};
use super::guard::brief;
use super::limits::{Counting, Lenient, LimitTag, aborted, charge, enter, note, stopped};
use super::metered::{Metered, NowSafeDate, Split, Uniq};

pub(super) static BASE: LazyLock<Language> = LazyLock::new(|| {
    let mut lang = Language::empty();
    let tags: [Box<dyn ParseTag>; 6] = [
        Box::new(stdlib::AssignTag),
        Box::new(stdlib::BreakTag),
        Box::new(stdlib::ContinueTag),
        Box::new(stdlib::CycleTag),
        Box::new(stdlib::IncrementTag),
        Box::new(stdlib::DecrementTag),
    ];
    for tag in tags {
        lang.tags.register(tag.reflection().tag().to_owned(), Box::new(GuardedTag(tag)));
    }
    let blocks: [Box<dyn ParseBlock>; 7] = [
        Box::new(stdlib::IfBlock),
        Box::new(stdlib::UnlessBlock),
        Box::new(stdlib::IfChangedBlock),
        Box::new(stdlib::ForBlock),
        Box::new(stdlib::TableRowBlock),
        Box::new(stdlib::CaptureBlock),
        Box::new(stdlib::CaseBlock),
    ];
    for block in blocks {
        lang.blocks.register(block.reflection().start_tag().to_owned(), Box::new(GuardedBlock(block)));
    }
    lang.tags.register("tidings_tick".to_owned(), Box::new(LimitTag { range: false }));
    lang.tags.register("tidings_range".to_owned(), Box::new(LimitTag { range: true }));
    let filters: Vec<Box<dyn ParseFilter>> = vec![
        Box::new(stdlib::Abs),
        Box::new(stdlib::Append),
        Box::new(stdlib::AtLeast),
        Box::new(stdlib::AtMost),
        Box::new(stdlib::Capitalize),
        Box::new(stdlib::Ceil),
        Box::new(stdlib::Compact),
        Box::new(stdlib::Concat),
        Box::new(NowSafeDate(Box::new(stdlib::Date))),
        Box::new(stdlib::Default),
        Box::new(stdlib::DividedBy),
        Box::new(stdlib::Downcase),
        Box::new(stdlib::Escape),
        Box::new(stdlib::EscapeOnce),
        Box::new(stdlib::First),
        Box::new(stdlib::Floor),
        Box::new(stdlib::Join),
        Box::new(stdlib::Last),
        Box::new(stdlib::Lstrip),
        Box::new(stdlib::Map),
        Box::new(stdlib::Minus),
        Box::new(stdlib::Modulo),
        Box::new(stdlib::NewlineToBr),
        Box::new(stdlib::Plus),
        Box::new(stdlib::Prepend),
        Box::new(stdlib::Remove),
        Box::new(stdlib::RemoveFirst),
        Box::new(stdlib::Replace),
        Box::new(stdlib::ReplaceFirst),
        Box::new(stdlib::Reverse),
        Box::new(stdlib::Round),
        Box::new(stdlib::Rstrip),
        Box::new(stdlib::Size),
        Box::new(stdlib::Slice),
        Box::new(stdlib::Sort),
        Box::new(stdlib::SortNatural),
        Box::new(Split),
        Box::new(stdlib::Strip),
        Box::new(stdlib::StripHtml),
        Box::new(stdlib::StripNewlines),
        Box::new(stdlib::Times),
        Box::new(stdlib::Truncate),
        Box::new(stdlib::TruncateWords),
        Box::new(Uniq),
        Box::new(stdlib::Upcase),
        Box::new(stdlib::UrlDecode),
        Box::new(stdlib::UrlEncode),
    ];
    for filter in filters {
        lang.filters.register(filter.reflection().name().to_owned(), Box::new(Metered(filter)));
    }
    for &(name, kind) in JEKYLL_FILTERS {
        let filter = JekyllFilter { name: name.to_owned(), kind };
        lang.filters.register(name.to_owned(), Box::new(Metered(Box::new(filter))));
    }
    for &name in UNSUPPORTED_FILTERS {
        let filter = JekyllFilter { name: name.to_owned(), kind: JKind::Identity };
        lang.filters.register(name.to_owned(), Box::new(Metered(Box::new(filter))));
    }
    lang
});

/// A standard tag whose lookups are lenient, whose output is counted and whose errors become problems.
#[derive(Clone)]
struct GuardedTag(pub(super) Box<dyn ParseTag>);

impl ParseTag for GuardedTag {
    fn parse(&self, arguments: TagTokenIter<'_>, options: &Language) -> liquid_core::Result<Box<dyn Renderable>> {
        Ok(Box::new(GuardedTagRender(self.0.parse(arguments, options)?)))
    }
    fn reflection(&self) -> &dyn TagReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct GuardedTagRender(pub(super) Box<dyn Renderable>);

impl Renderable for GuardedTagRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        let mut counting = Counting { inner: writer, bytes: 0 };
        let result = self.0.render_to(&mut counting, &Lenient(runtime));
        let bytes = counting.bytes;
        match result {
            Ok(()) => charge(runtime, bytes),
            Err(e) if aborted(runtime) => Err(e),
            Err(e) => {
                note(runtime, None, format!("Liquid error: {}", brief(&e)));
                Ok(())
            }
        }
    }
}

/// A standard block whose lookups are lenient and whose errors become problems.
#[derive(Clone)]
struct GuardedBlock(pub(super) Box<dyn ParseBlock>);

impl ParseBlock for GuardedBlock {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        block: TagBlock<'_, '_>,
        options: &Language,
    ) -> liquid_core::Result<Box<dyn Renderable>> {
        Ok(Box::new(GuardedBlockRender(self.0.parse(arguments, block, options)?)))
    }
    fn reflection(&self) -> &dyn BlockReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct GuardedBlockRender(pub(super) Box<dyn Renderable>);

impl Renderable for GuardedBlockRender {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        match self.0.render_to(writer, &Lenient(runtime)) {
            Ok(()) if aborted(runtime) => Err(stopped()),
            Ok(()) => Ok(()),
            Err(e) if aborted(runtime) => Err(e),
            Err(e) => {
                note(runtime, None, format!("Liquid error: {}", brief(&e)));
                Ok(())
            }
        }
    }
}
