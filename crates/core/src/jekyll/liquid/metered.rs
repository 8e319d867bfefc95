//! liquid-lib's filters metered for work and memory, and our `split`, `uniq` and clock-free `date`.

use std::collections::HashSet;
use std::fmt;

use liquid_core::model::{KStringCow, ScalarCow};
use liquid_core::parser::{FilterArguments, FilterReflection, ParseFilter};
use liquid_core::{Error, Expression, Filter, Runtime, Value, ValueView};
use liquid_lib::stdlib;

use super::VALUE_BYTES;
use super::limits::{Size, charge, charge_work, check_memory, enter};

/// Charges a filter's work before it runs (its input's size; n log n for sorts) and its result's after, counts the
/// evaluation, checks the result against [`MAX_LIVE_BYTES`], and counts its growth against the output limit (so
/// `assign x = x | append: x` in a loop stops).
#[derive(Clone)]
pub(super) struct Metered(pub(super) Box<dyn ParseFilter>);

impl ParseFilter for Metered {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        let sorts = matches!(self.0.reflection().name(), "sort" | "sort_natural");
        Ok(Box::new(MeteredFilter { inner: self.0.parse(arguments)?, sorts }))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct MeteredFilter {
    pub(super) inner: Box<dyn Filter>,
    sorts: bool,
}

impl fmt::Display for MeteredFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Filter for MeteredFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        enter(runtime)?;
        let before = Size::of(input);
        let mut work = before.work().saturating_add(1);
        if self.sorts {
            work = work.saturating_mul(u64::from(usize::BITS - before.nodes.leading_zeros()).max(1));
        }
        charge_work(runtime, work, true)?;
        let out = self.inner.evaluate(input, runtime)?;
        let after = Size::of(&out);
        charge_work(runtime, after.work(), false)?;
        check_memory(runtime, after.bytes())?;
        let grown = after.weight().saturating_sub(before.weight());
        if grown > 0 {
            charge(runtime, grown)?;
        }
        Ok(out)
    }
}

/// Liquid's `split`, checking the memory its result takes before making it (a string of commas is ~56 times
/// bigger split).
#[derive(Clone)]
pub(super) struct Split;

impl ParseFilter for Split {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        let FilterArguments { mut positional, keyword } = arguments;
        let pattern = positional.next();
        match pattern {
            Some(pattern) if positional.next().is_none() && keyword.count() == 0 => {
                Ok(Box::new(SplitFilter { pattern }))
            }
            _ => Err(Error::with_msg("`split` takes one argument, the separator")),
        }
    }
    fn reflection(&self) -> &dyn FilterReflection {
        &stdlib::Split
    }
}

#[derive(Debug)]
struct SplitFilter {
    pub(super) pattern: Expression,
}

impl fmt::Display for SplitFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "split: {}", self.pattern)
    }
}

impl Filter for SplitFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let pattern = self.pattern.evaluate(runtime)?.to_kstr().into_owned();
        let input = input.to_kstr();
        if input.is_empty() {
            return Ok(Value::Array(Vec::new()));
        }
        let pieces = input.split(pattern.as_str()).count();
        check_memory(runtime, pieces.saturating_add(1).saturating_mul(VALUE_BYTES).saturating_add(input.len()))?;
        Ok(Value::Array(input.split(pattern.as_str()).map(|s| Value::scalar(s.to_owned())).collect()))
    }
}

/// Liquid's `uniq` in linear time for arrays of strings and numbers (liquid-lib compares each item with every one
/// kept: quadratic, seconds for 20,000 items). Other arrays go to liquid-lib's, charged its quadratic work first.
#[derive(Clone)]
pub(super) struct Uniq;

impl ParseFilter for Uniq {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(UniqFilter(stdlib::Uniq.parse(arguments)?)))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        &stdlib::Uniq
    }
}

#[derive(Debug)]
struct UniqFilter(pub(super) Box<dyn Filter>);

impl fmt::Display for UniqFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for UniqFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let Some(array) = input.as_array() else { return self.0.evaluate(input, runtime) };
        if let Some(unique) = uniq_linear(array) {
            return Ok(unique);
        }
        let n = array.size().unsigned_abs();
        charge_work(runtime, n.saturating_mul(n) / 2, false)?;
        self.0.evaluate(input, runtime)
    }
}

/// How [`uniq_linear`] tells items apart: as liquid-core's equality does for strings and numbers (an integer equals
/// the float of the same value; a string never equals a number).
#[derive(Hash, PartialEq, Eq)]
enum UniqKey<'a> {
    Str(KStringCow<'a>),
    Int(i64),
    Float(u64),
}

/// The first occurrence of each item, in order, when every item is a string or a number (integers within ±2^53,
/// finite floats); `None` for any other array (booleans equal every truthy value there, which no hash can follow).
pub(super) fn uniq_linear(array: &dyn liquid_core::model::ArrayView) -> Option<Value> {
    const EXACT: u64 = 1 << 53;
    let mut seen = HashSet::with_capacity(array.size().unsigned_abs() as usize);
    let mut kept = Vec::new();
    for item in array.values() {
        let scalar = item.as_scalar()?;
        let key = match item.type_name() {
            "string" => UniqKey::Str(item.to_kstr()),
            "whole number" => UniqKey::Int(scalar.to_integer().filter(|i| i.unsigned_abs() <= EXACT)?),
            "fractional number" => {
                let f = scalar.to_float().filter(|f| f.is_finite())?;
                if f.fract() == 0.0 && f.abs() <= EXACT as f64 {
                    UniqKey::Int(f as i64)
                } else {
                    UniqKey::Float(f.to_bits())
                }
            }
            _ => return None,
        };
        if seen.insert(key) {
            kept.push(item.to_value());
        }
    }
    Some(Value::array(kept))
}

/// Liquid's `date`, with `"now"`/`"today"` taken from `site.time` instead of the clock.
#[derive(Clone)]
pub(super) struct NowSafeDate(pub(super) Box<dyn ParseFilter>);

impl ParseFilter for NowSafeDate {
    fn parse(&self, arguments: FilterArguments<'_>) -> liquid_core::Result<Box<dyn Filter>> {
        Ok(Box::new(NowSafeDateFilter(self.0.parse(arguments)?)))
    }
    fn reflection(&self) -> &dyn FilterReflection {
        self.0.reflection()
    }
}

#[derive(Debug)]
struct NowSafeDateFilter(pub(super) Box<dyn Filter>);

impl fmt::Display for NowSafeDateFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Filter for NowSafeDateFilter {
    fn evaluate(&self, input: &dyn ValueView, runtime: &dyn Runtime) -> liquid_core::Result<Value> {
        let text = input.to_kstr();
        if matches!(text.trim().to_ascii_lowercase().as_str(), "now" | "today") {
            let time = runtime.try_get(&[ScalarCow::new("site"), ScalarCow::new("time")]).filter(|v| !v.is_nil());
            return match time {
                Some(time) => self.0.evaluate(time.as_view(), runtime),
                None => Err(Error::with_msg("`date` of \"now\" needs `site.time` (tidings reads no clock)")),
            };
        }
        self.0.evaluate(input, runtime)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jekyll::liquid::tests::{Site, check, fixture_body, run_bounded};
    use crate::jekyll::liquid::*;
    use liquid_core::ValueView;
    use liquid_lib::stdlib;
    use serde_json::json;

    const UNIQ_POST: &str = include_str!("../../../../../tests/data/hostile/liquid/_posts/2024-01-01-uniq.md");

    #[test]
    fn quadratic_uniq_post_finishes_in_bounded_time() {
        // Issue 25, finding 3: liquid-lib's `uniq` took 8.7 s per call on these 20,000 items, 24 calls.
        let out = run_bounded(fixture_body(UNIQ_POST), None);
        assert_eq!(out.text.trim().lines().collect::<Vec<_>>(), ["20001"; 24]);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        assert!(out.stopped.is_none());
    }

    #[test]
    fn linear_uniq_matches_liquid_lib() {
        let cases = [
            json!(["b", "a", "b", "c", "a", ""]),
            json!([3, 1, 3, 2.0, 2, 1.5, 1.5, -0.0, 0, "1", 1]),
            json!([]),
            json!(["x"]),
            json!([true, 1, "a", false, null, false, "a"]),
            json!([[1], [1], {"k": 1}, {"k": 1}, "k"]),
        ];
        for case in cases {
            let input = liquid_core::to_value(&case).unwrap();
            let theirs = liquid_core::call_filter!(stdlib::Uniq, input.clone()).unwrap();
            let ours = liquid_core::call_filter!(Uniq, input.clone()).unwrap();
            assert_eq!(ours, theirs, "{case}");
        }
        let strings = liquid_core::to_value(&json!(["b", "a", "b"])).unwrap();
        assert!(uniq_linear(strings.as_array().unwrap()).is_some(), "strings take the linear path");
        let bools = liquid_core::to_value(&json!([true, 1])).unwrap();
        assert!(uniq_linear(bools.as_array().unwrap()).is_none(), "booleans take liquid-lib's");
        check("{{ \"b,a,b,c\" | split: \",\" | uniq | join: \"+\" }}", "b+a+c");
        // liquid-lib's quadratic `uniq` is charged first: 10,000 booleans and nulls cost 50,000,000 units.
        let list: Vec<serde_json::Value> =
            (0..10_000).map(|i| if i % 2 == 0 { json!(true) } else { json!(null) }).collect();
        let page = json!({ "list": list });
        let out = render("{{ page.list | uniq | size }}", &json!({}), &page, &Site::default());
        assert_eq!(out.stopped.map(|s| s.0), Some(Stop::Work));
        let page = json!({"list": [true, null, false, true]});
        assert_eq!(render("{{ page.list | uniq | size }}", &json!({}), &page, &Site::default()).text, "2");
    }

    #[test]
    fn split_matches_liquid_lib() {
        for (input, pattern) in [("a, b, c", ", "), ("", ","), ("abc", ""), (",a,,b,", ","), ("no", "x")] {
            let theirs = liquid_core::call_filter!(stdlib::Split, input, pattern).unwrap();
            let ours = liquid_core::call_filter!(Split, input, pattern).unwrap();
            assert_eq!(ours, theirs, "{input:?} / {pattern:?}");
        }
    }
}
