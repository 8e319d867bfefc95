//! Per-render state and the limits on output, loops, work, memory and time.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use liquid_core::model::{KString, KStringCow, KStringRef, ScalarCow};
use liquid_core::parser::{ParseTag, TagReflection, TagTokenIter};
use liquid_core::runtime::{PartialStore, Registers};
use liquid_core::{Error, Expression, Language, Renderable, Runtime, Value, ValueCow, ValueView};

use super::position::{At, Where};
use super::{MAX_FILTER_CALLS, MAX_ITERATIONS, MAX_LIVE_BYTES, MAX_PROBLEMS, MAX_WORK, Stop, VALUE_BYTES};

/// What one render may produce: `10 × body + 1 MiB` bytes.
pub(super) fn output_limit(body: &str) -> usize {
    body.len().saturating_mul(10).saturating_add(1 << 20)
}

/// Per-render state, kept in the runtime's registers.
#[derive(Default)]
pub(super) struct State {
    pub(super) problems: Vec<(At, String)>,
    pub(super) highlights: Vec<String>,
    used: usize,
    pub(super) limit: usize,
    pub(super) iterations: usize,
    pub(super) aborted: bool,
    /// The limit that stopped rendering, where, and its message.
    pub(super) stopped: Option<(Stop, At, String)>,
    pub(super) current: Option<At>,
    /// Work done (see [`MAX_WORK`]) and filters evaluated.
    pub(super) work: u64,
    filter_calls: u64,
    /// Bytes held by variables set by `assign` and `capture` (by name), their sum, and the most held at once
    /// (with a filter's result on top).
    pub(super) held: HashMap<KString, usize>,
    live: usize,
    pub(super) peak: usize,
    /// When to stop, and calls since the clock was last read (every 16th reads it).
    pub(super) deadline: Option<Instant>,
    since_clock: u32,
    /// A `set_global` is being counted (runtimes nest).
    pub(super) setting: bool,
}

impl State {
    pub(super) fn note(&mut self, at: At, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push((at, message));
        }
    }

    pub(super) fn here(&self) -> At {
        self.current.clone().unwrap_or_else(|| Arc::new(Where { line: 1, column: 1, prefix: String::new() }))
    }

    /// The limit passed, if one did: the deadline (read every 64 calls) and work.
    pub(super) fn over(&mut self) -> Option<(Stop, String)> {
        if self.work > MAX_WORK {
            return Some((
                Stop::Work,
                format!(
                    "Liquid did more than {MAX_WORK} units of work (filters over large arrays or strings, \
                     or loops over them): use fewer filters over large values"
                ),
            ));
        }
        if self.filter_calls > MAX_FILTER_CALLS {
            return Some((
                Stop::Work,
                format!("Liquid evaluated more than {MAX_FILTER_CALLS} filters: use fewer filters inside loops"),
            ));
        }
        self.since_clock += 1;
        if self.since_clock >= 16 {
            self.since_clock = 0;
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Some((
                    Stop::Time,
                    "Liquid rendering took longer than the render budget: simplify the post's Liquid, \
                     or raise `--render-budget-ms` if it is legitimately slow"
                        .to_owned(),
                ));
            }
        }
        None
    }
}

pub(super) fn stopped() -> Error {
    Error::with_msg("Liquid rendering stopped at a limit")
}

pub(super) fn aborted(rt: &dyn Runtime) -> bool {
    rt.registers().get_mut::<State>().aborted
}

/// Before rendering any piece: fails once rendering stopped, and stops it at the deadline or past the work limit.
pub(super) fn enter(rt: &dyn Runtime) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.over()
    };
    match over {
        Some((stop, message)) => Err(abort(rt, stop, message)),
        None => Ok(()),
    }
}

/// Stops all further Liquid rendering, with one problem at the current position.
pub(super) fn abort(rt: &dyn Runtime, stop: Stop, message: String) -> Error {
    let mut state = rt.registers().get_mut::<State>();
    if !state.aborted {
        state.aborted = true;
        let at = state.here();
        state.stopped = Some((stop, at.clone(), message.clone()));
        state.problems.push((at, message));
    }
    stopped()
}

/// Counts `bytes` of produced text against the output limit.
pub(super) fn charge(rt: &dyn Runtime, bytes: usize) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.used = state.used.saturating_add(bytes);
        (state.used > state.limit).then_some(state.limit)
    };
    match over {
        Some(limit) => Err(abort(
            rt,
            Stop::Output,
            format!("Liquid output passed the limit of {limit} bytes; the rest was skipped"),
        )),
        None => Ok(()),
    }
}

/// Counts `units` of work (and a filter evaluation when `call`), and stops rendering past a limit.
pub(super) fn charge_work(rt: &dyn Runtime, units: u64, call: bool) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        if state.aborted {
            return Err(stopped());
        }
        state.work = state.work.saturating_add(units);
        state.filter_calls += u64::from(call);
        state.over()
    };
    match over {
        Some((stop, message)) => Err(abort(rt, stop, message)),
        None => Ok(()),
    }
}

/// Checks that `bytes` more (a filter's result, about to be made or just made) fit beside what is held.
pub(super) fn check_memory(rt: &dyn Runtime, bytes: usize) -> liquid_core::Result<()> {
    let over = {
        let mut state = rt.registers().get_mut::<State>();
        let total = state.live.saturating_add(bytes);
        if total > MAX_LIVE_BYTES {
            Some(total)
        } else {
            state.peak = state.peak.max(total);
            None
        }
    };
    match over {
        Some(total) => Err(abort(rt, Stop::Memory, memory_message(total))),
        None => Ok(()),
    }
}

fn memory_message(total: usize) -> String {
    format!(
        "Liquid values would take about {} MiB, over the limit of {} MiB: \
         do not split or copy large strings and arrays into many variables",
        total >> 20,
        MAX_LIVE_BYTES >> 20
    )
}

/// `assign` or `capture` set `name` to a value of `bytes`: counts it instead of the value it replaces. False when
/// that passes [`MAX_LIVE_BYTES`] (rendering is then stopped).
pub(super) fn hold(rt: &dyn Runtime, name: &KString, bytes: usize) -> bool {
    let total = {
        let mut state = rt.registers().get_mut::<State>();
        let old = state.held.insert(name.clone(), bytes).unwrap_or(0);
        state.live = state.live.saturating_sub(old).saturating_add(bytes);
        if state.live <= MAX_LIVE_BYTES {
            state.peak = state.peak.max(state.live);
        }
        state.live
    };
    if total > MAX_LIVE_BYTES {
        abort(rt, Stop::Memory, memory_message(total));
        return false;
    }
    true
}

pub(super) fn note(rt: &dyn Runtime, at: Option<&At>, message: String) {
    let mut state = rt.registers().get_mut::<State>();
    let at = at.cloned().unwrap_or_else(|| state.here());
    state.note(at, message);
}

pub(super) fn io_error(e: std::io::Error) -> Error {
    Error::with_msg(e.to_string())
}

/// The size of a value: nodes (the value, array items, object entries) and text bytes (scalars as rendered, object
/// keys); "too big" past 64 levels of nesting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Size {
    pub(super) nodes: usize,
    pub(super) text: usize,
}

impl Size {
    const HUGE: Size = Size { nodes: usize::MAX / 4, text: 0 };

    pub(super) fn of(v: &dyn ValueView) -> Size {
        let mut size = Size::default();
        size.add(v, 0);
        size
    }

    fn add(&mut self, v: &dyn ValueView, depth: usize) {
        if depth > 64 {
            *self = Size::HUGE;
            return;
        }
        self.nodes = self.nodes.saturating_add(1);
        if let Some(s) = v.as_scalar() {
            self.text = self.text.saturating_add(s.to_kstr().len());
        } else if let Some(a) = v.as_array() {
            for x in a.values() {
                self.add(x, depth + 1);
            }
        } else if let Some(o) = v.as_object() {
            for (k, x) in o.iter() {
                self.text = self.text.saturating_add(k.len());
                self.add(x, depth + 1);
            }
        }
    }

    /// The rough weight the output limit counts: text plus one per node.
    pub(super) fn weight(self) -> usize {
        self.text.saturating_add(self.nodes)
    }

    /// The memory it takes, about.
    pub(super) fn bytes(self) -> usize {
        self.nodes.saturating_mul(VALUE_BYTES).saturating_add(self.text)
    }

    /// The work of visiting it once.
    pub(super) fn work(self) -> u64 {
        (self.nodes as u64).saturating_add(self.text as u64 / 32)
    }
}

/// A runtime that answers an unknown variable, key or index with nil instead of an error, as Jekyll does.
pub(super) struct Lenient<'r>(pub(super) &'r dyn Runtime);

impl Runtime for Lenient<'_> {
    fn partials(&self) -> &dyn PartialStore {
        self.0.partials()
    }
    fn name(&self) -> Option<KStringRef<'_>> {
        self.0.name()
    }
    fn roots(&self) -> BTreeSet<KStringCow<'_>> {
        self.0.roots()
    }
    fn try_get(&self, path: &[ScalarCow<'_>]) -> Option<ValueCow<'_>> {
        self.0.try_get(path)
    }
    fn get(&self, path: &[ScalarCow<'_>]) -> liquid_core::Result<ValueCow<'_>> {
        Ok(self.0.try_get(path).unwrap_or(ValueCow::Owned(Value::Nil)))
    }
    /// `assign` and `capture`: the value is counted against [`MAX_LIVE_BYTES`] (and not kept past it).
    fn set_global(&self, name: KString, val: Value) -> Option<Value> {
        // Nested runtimes (a loop's frame inside a guarded block) pass this up through another `Lenient`.
        if std::mem::replace(&mut self.0.registers().get_mut::<State>().setting, true) {
            return self.0.set_global(name, val);
        }
        let size = Size::of(&val);
        let val = match charge_work(self.0, size.work(), false) {
            Ok(()) if hold(self.0, &name, size.bytes()) => val,
            _ => {
                hold(self.0, &name, 0);
                Value::Nil
            }
        };
        let old = self.0.set_global(name, val);
        self.0.registers().get_mut::<State>().setting = false;
        old
    }
    fn set_index(&self, name: KString, val: Value) -> Option<Value> {
        self.0.set_index(name, val)
    }
    fn get_index<'a>(&'a self, name: &str) -> Option<ValueCow<'a>> {
        self.0.get_index(name)
    }
    fn registers(&self) -> &Registers {
        self.0.registers()
    }
}

/// A writer that counts what passes through it.
pub(super) struct Counting<'w> {
    pub(super) inner: &'w mut dyn Write,
    pub(super) bytes: usize,
}

impl Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `tidings_tick` (one loop iteration) and `tidings_range A B` (refuses a range too large to build).
#[derive(Clone)]
pub(super) struct LimitTag {
    pub(super) range: bool,
}

impl TagReflection for LimitTag {
    fn tag(&self) -> &str {
        if self.range { "tidings_range" } else { "tidings_tick" }
    }
    fn description(&self) -> &str {
        ""
    }
}

impl ParseTag for LimitTag {
    fn parse(&self, mut arguments: TagTokenIter<'_>, _: &Language) -> liquid_core::Result<Box<dyn Renderable>> {
        let bounds = if self.range {
            let a = arguments.expect_next("start expected")?.expect_value().into_result()?;
            let b = arguments.expect_next("end expected")?.expect_value().into_result()?;
            Some((a, b))
        } else {
            None
        };
        arguments.expect_nothing()?;
        Ok(Box::new(LimitRender { bounds }))
    }
    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

#[derive(Debug)]
struct LimitRender {
    bounds: Option<(Expression, Expression)>,
}

impl Renderable for LimitRender {
    fn render_to(&self, _: &mut dyn Write, runtime: &dyn Runtime) -> liquid_core::Result<()> {
        enter(runtime)?;
        let lenient = Lenient(runtime);
        let int = |e: &Expression| e.evaluate(&lenient).ok().and_then(|v| v.as_scalar().and_then(|s| s.to_integer()));
        match &self.bounds {
            Some((a, b)) => {
                if let (Some(a), Some(b)) = (int(a), int(b)) {
                    let size = i128::from(b) - i128::from(a) + 1;
                    if size > MAX_ITERATIONS as i128 {
                        let message = format!("a `for` over ({a}..{b}) exceeds {MAX_ITERATIONS} items; Liquid stopped");
                        return Err(abort(runtime, Stop::Iterations, message));
                    }
                }
                Ok(())
            }
            None => {
                let over = {
                    let mut state = runtime.registers().get_mut::<State>();
                    state.iterations += 1;
                    state.iterations > MAX_ITERATIONS
                };
                if over {
                    let message = format!("Liquid loops ran more than {MAX_ITERATIONS} times; the rest was skipped");
                    return Err(abort(runtime, Stop::Iterations, message));
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jekyll::liquid::tests::{run, run_bounded};
    use crate::jekyll::liquid::*;
    use std::time::Instant;

    #[test]
    fn runaway_liquid_is_stopped() {
        let out = run("{% for i in (1..1000000000) %}x{% endfor %}after");
        assert_eq!(out.text, "after");
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        let body =
            "{% assign x = \"ab\" %}{% for i in (1..60) %}{% assign x = x | append: x %}{% endfor %}{{ x | size }}";
        let out = run(body);
        assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        assert!(out.problems[0].message.contains("limit"), "{:?}", out.problems);
        let body = "{% for a in (1..1000) %}{% for b in (1..1000) %}{% endfor %}{% endfor %}done";
        let out = run(body);
        assert_eq!(out.text, "done");
        assert!(out.problems[0].message.contains("100000"), "{:?}", out.problems);
        let body = "{% capture x %}ab{% endcapture %}{% for i in (1..60) %}{% capture x %}{{x}}{{x}}{% endcapture %}{% endfor %}";
        assert_eq!(run(body).problems.len(), 1);
    }

    #[test]
    fn sorting_large_arrays_in_a_loop_stops_at_the_work_limit() {
        let body = "{% capture s %}{% for i in (1..20000) %}{{ i }},{% endfor %}{% endcapture %}\
                    {% assign arr = s | split: \",\" %}{% for i in (1..50000) %}{{ arr | sort | size }}{% endfor %}";
        let out = run_bounded(body.to_owned(), None);
        let (stop, problem) = out.stopped.expect("stopped");
        assert_eq!(stop, Stop::Work);
        assert!(problem.message.contains("units of work"), "{problem:?}");
        assert_eq!((problem.line, problem.column), (1, 135), "{problem:?}");
        assert_eq!(out.problems, [problem]);
    }

    #[test]
    fn filter_evaluations_are_capped() {
        let body = "{% for i in (1..100000) %}{{ i | plus: 1 | minus: 1 | plus: 1 | minus: 1 | plus: 1 | minus: 1 }}\
                    {% endfor %}";
        let (stop, problem) = run_bounded(body.to_owned(), None).stopped.expect("stopped");
        assert_eq!(stop, Stop::Work);
        assert!(problem.message.contains(&format!("more than {MAX_FILTER_CALLS} filters")), "{problem:?}");
    }

    #[test]
    fn work_outside_filters_stops_at_the_deadline() {
        // `contains` over 20,000 items in a loop is no filter: only the deadline stops it.
        let body = "{% capture s %}{% for i in (1..20000) %}{{ i }},{% endfor %}{% endcapture %}\
                    {% assign arr = s | split: \",\" %}\
                    {% for i in (1..70000) %}{% if arr contains \"x\" %}x{% endif %}{% endfor %}after";
        let started = Instant::now();
        let out = run_bounded(body.to_owned(), Some(started + std::time::Duration::from_millis(200)));
        assert_eq!(out.stopped.expect("stopped").0, Stop::Time);
        // A deadline already passed stops a render at its first checks.
        let out = run_bounded("{% for i in (1..1000) %}{{ i }}{% endfor %}".to_owned(), Some(started));
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Time));
    }

    #[test]
    fn commas_split_into_many_variables_are_refused_by_the_memory_cap() {
        // Issue 25, finding 4: 1 MB of commas split by 16 `assign`s took 949 MB.
        let splits: String = (0..16).map(|i| format!("{{% assign a{i} = s | split: \",\" %}}")).collect();
        let body = format!("{{% capture s %}}{}{{% endcapture %}}{splits}done", ",".repeat(1_000_000));
        let out = run_bounded(body, None);
        let (stop, problem) = out.stopped.expect("stopped");
        assert_eq!(stop, Stop::Memory, "{problem:?}");
        assert!(problem.message.contains("MiB"), "{problem:?}");
        assert!(out.peak_bytes <= MAX_LIVE_BYTES, "{}", out.peak_bytes);
        // The first split (1,000,001 items, ~57 MB) fits; the second is refused before it is made.
        assert!(out.peak_bytes > 56_000_000, "{}", out.peak_bytes);
    }

    #[test]
    fn copies_of_a_large_array_count_each() {
        let copies: String = (0..16).map(|i| format!("{{% assign c{i} = a %}}")).collect();
        let body = format!(
            "{{% capture s %}}{}{{% endcapture %}}{{% assign a = s | split: \",\" %}}{copies}done",
            ",".repeat(300_000)
        );
        let out = run_bounded(body, None);
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Memory));
        assert!(out.peak_bytes <= MAX_LIVE_BYTES);
        // Assigning again replaces what a name held: the same work in a loop stays within the cap.
        let body = format!(
            "{{% capture s %}}{}{{% endcapture %}}\
             {{% for i in (1..16) %}}{{% assign a = s | split: \",\" %}}{{% endfor %}}done",
            ",".repeat(300_000)
        );
        let out = run_bounded(body, None);
        assert!(out.stopped.is_none(), "{:?}", out.stopped);
        assert!(out.text.ends_with("done"));
    }
}
