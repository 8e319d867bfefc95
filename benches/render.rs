//! Criterion benches of the pure rendering steps: Markdown to HTML, summary cutting, writing
//! one 20-item feed page in each format, compressing it (what a cache miss costs), and
//! building the index.
//!
//! Input: the posts of `TIDINGS_BENCH_CONTENT` (a Jekyll-style folder, e.g. one made by
//! `../shared/bench/gen_corpus.py`; `bench/render.sh` makes a 1,000-post one), else the real
//! 18F blog in `../shared/corpora/18f-blog`, else the sample site in `content/`.
//!
//!     cargo bench --bench render                      # the whole suite, well under 2 minutes
//!     TIDINGS_BENCH_CONTENT=/tmp/c cargo bench --bench render -- markdown
//!
//! Each bench measures for 3 s after a 1 s warm-up.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tidings::content::{self, Sources};
use tidings::document::rendered_feed;
use tidings::feed::{self, FeedKey, Format, Scope};
use tidings::index::Index;
use url::Url;

/// Where the posts come from.
fn content_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TIDINGS_BENCH_CONTENT") {
        return PathBuf::from(dir);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/corpora/18f-blog");
    if shared.join("_posts").is_dir() { shared } else { root.join("content") }
}

/// The Markdown bodies (front matter removed) of every post file under `dir/_posts`,
/// sorted by path so that runs pick the same ones.
fn bodies(dir: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.join("_posts")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown")) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .iter()
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .map(|text| strip_front_matter(&text).to_owned())
        .filter(|body| !body.trim().is_empty())
        .collect()
}

/// The text after the closing `---` of a leading front-matter block.
fn strip_front_matter(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("---\n").or_else(|| text.strip_prefix("---\r\n")) else { return text };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end() == "---" {
            return &rest[offset..];
        }
    }
    text
}

/// The bodies at the 10th, 50th and 90th percentile of size.
fn by_size(mut bodies: Vec<String>) -> Vec<(&'static str, String)> {
    assert!(!bodies.is_empty(), "no posts found under {}", content_dir().display());
    bodies.sort_by_key(String::len);
    let at = |q: f64| bodies[((bodies.len() - 1) as f64 * q) as usize].clone();
    vec![("p10", at(0.1)), ("p50", at(0.5)), ("p90", at(0.9))]
}

fn loaded_index() -> Index {
    let dir = content_dir();
    let sources = Sources {
        content_dir: dir.clone(),
        // No site.yaml there: the defaults, and the corpus's own _data/authors.yml.
        feeds_dir: dir.join(".no-feeds-dir"),
        drafts: false,
        base_url: Some("https://example.org".to_owned()),
        max_post_bytes: content::MAX_POST_BYTES,
        render_budget: tidings::content::RENDER_BUDGET,
        cache_bytes: tidings::store::DEFAULT_BUDGET,
        own_hub: None,
    };
    let site = content::load(&sources).unwrap_or_else(|e| panic!("{}: {:?}", dir.display(), e.0));
    // A fixed instant after every generated post, so runs agree on what is visible.
    let now = chrono::DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z").unwrap().to_utc();
    Index::build(&site.posts, site.bodies.clone(), now, 1)
}

fn markdown(c: &mut Criterion) {
    let base = Url::parse("https://example.org/rust/2024/05/01/a-post.html").unwrap();
    let mut group = c.benchmark_group("markdown_render");
    for (label, body) in by_size(bodies(&content_dir())) {
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new(label, body.len()), &body, |b, body| {
            b.iter(|| tidings::markdown::render(black_box(body), None, "<!--more-->", &base))
        });
    }
    group.finish();
}

fn cut_at_word(c: &mut Criterion) {
    // Plain text of a median post: what summaries are cut from.
    let text = by_size(bodies(&content_dir()))[1].1.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = text.chars().take(200).collect();
    let mut group = c.benchmark_group("cut_at_word");
    for (label, input) in [("fits_200_chars", short), ("long_to_280", text)] {
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new(label, input.len()), &input, |b, input| {
            b.iter(|| tidings::text::cut_at_word(black_box(input), tidings::markdown::PLAIN_SUMMARY_CHARS))
        });
    }
    group.finish();
}

fn feeds(c: &mut Criterion) {
    let index = loaded_index();
    eprintln!("feed benches: {} posts from {}", index.posts.len(), content_dir().display());
    let mut group = c.benchmark_group("feed_render_site_page1");
    for format in [Format::Rss, Format::Atom, Format::Json] {
        let key = FeedKey::new(Scope::Site, format);
        let size = feed::render(&index, &key).expect("the site feed").bytes.len();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new(format.extension(), size), &key, |b, key| {
            b.iter(|| feed::render(black_box(&index), key))
        });
    }
    group.finish();

    // A cache miss also hashes the bytes and compresses them (gzip 9 and brotli 9).
    let mut group = c.benchmark_group("feed_compress_site_page1");
    for format in [Format::Rss, Format::Json] {
        let output = feed::render(&index, &FeedKey::new(Scope::Site, format)).expect("the site feed");
        group.throughput(Throughput::Bytes(output.bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new(format.extension(), output.bytes.len()), &output, |b, output| {
            b.iter(|| rendered_feed(black_box(output.clone()), format.media_type()))
        });
    }
    group.finish();

    let bodies = index.bodies.clone();
    let posts = index.posts.clone();
    let now = chrono::Utc::now();
    c.bench_function(&format!("index_build/{}_posts", posts.len()), |b| {
        b.iter(|| Index::build(black_box(&posts), bodies.clone(), now, 2))
    });
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = markdown, cut_at_word, feeds
}
criterion_main!(benches);
