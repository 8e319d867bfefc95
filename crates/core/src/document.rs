//! The catalogue of everything the service serves: each [`Document`] (a feed page, its
//! browser page, the OPML list, the home page, headlines, the widget), how it is rendered from
//! an index snapshot, its fingerprint (a hash of everything it shows) and where the static
//! export writes it.

use std::time::{Duration, SystemTime};

use crate::discovery;
use crate::feed::{self, FeedKey, Fingerprint};
use crate::headlines;
use crate::index::Index;
use crate::representation::Rendered;

/// Something the service serves: a feed page or a discovery document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Document {
    /// One page of one feed.
    Feed(FeedKey),
    /// The OPML list of feeds.
    Opml,
    /// The HTML index page.
    Home,
    /// The page a browser is shown for one page of one feed (see [`feed::html`]).
    View(FeedKey),
    /// `/headlines.json` for one feed and limit.
    Headlines(headlines::Request),
    /// The `/embed/…` page for one feed, limit and image choice.
    Embed(headlines::Request),
    /// The `/embed.js` widget.
    EmbedScript,
}

/// The embeddable headlines widget.
const EMBED_JS: &[u8] = include_bytes!("../../../assets/embed.js");

impl Document {
    /// Where the static export writes the document, relative to its output folder; `None`
    /// for documents that depend on query parameters (headlines), which need `serve`.
    pub fn export_path(&self) -> Option<String> {
        match self {
            Document::Feed(key) => Some(key.export_path()),
            Document::Opml => Some(discovery::OPML_PATH.trim_start_matches('/').to_owned()),
            Document::Home => Some("index.html".to_owned()),
            // Beside the feed's file (`feed.atom.html`); a web server shows it to browsers.
            Document::View(key) if key.page <= 1 => Some(format!("{}.html", key.export_path())),
            Document::View(_) => None,
            Document::Headlines(_) | Document::Embed(_) | Document::EmbedScript => None,
        }
    }

    /// Renders the document from `index`; `None` when the index has no such feed or page.
    pub fn render(&self, index: &Index) -> Option<Rendered> {
        let started = std::time::Instant::now();
        let updated = || index.updated();
        let mut complete = true;
        let (bytes, updated, media_type) = match self {
            Document::Feed(key) => {
                let output = feed::render(index, key)?;
                complete = output.complete;
                (output.bytes, output.updated, key.format.media_type())
            }
            Document::Opml => (discovery::opml(index), updated(), "text/x-opml; charset=utf-8"),
            Document::Home => (discovery::home_page(index), updated(), "text/html; charset=utf-8"),
            Document::View(key) => {
                let output = feed::render_view(index, key)?;
                complete = output.complete;
                (output.bytes, output.updated, "text/html; charset=utf-8")
            }
            Document::Headlines(request) => {
                let (bytes, all_there) = headlines::json(index, request)?;
                complete = all_there;
                (bytes, updated(), "application/json; charset=utf-8")
            }
            Document::Embed(request) => (headlines::embed_page(index, request)?, updated(), "text/html; charset=utf-8"),
            Document::EmbedScript => (EMBED_JS.to_vec(), None, "text/javascript; charset=utf-8"),
        };
        let mut rendered = Rendered::new(bytes, updated.map(to_system_time), media_type);
        rendered.render_time = started.elapsed();
        rendered.complete = complete;
        if let Ok(value) = http::HeaderValue::from_str(&index.config.cache_control()) {
            rendered.cache_control = value;
        }
        Some(rendered)
    }

    /// The document's cache key in `index`: a hash of everything it shows (see
    /// [`Fingerprint`]); `None` when the index has no such feed or page. The index page and
    /// the OPML list are keyed by snapshot: they are small and list every feed.
    pub fn fingerprint(&self, index: &Index) -> Option<u128> {
        match self {
            Document::Feed(key) => feed::fingerprint(index, key),
            Document::Headlines(request) => headlines::fingerprint(index, request, "json"),
            Document::Embed(request) => headlines::fingerprint(index, request, "embed"),
            Document::Opml => Some(Fingerprint::new(index, &("opml", index.generation)).finish()),
            Document::Home => Some(Fingerprint::new(index, &("home", index.generation)).finish()),
            Document::View(key) => {
                feed::fingerprint(index, key).map(|feed| Fingerprint::new(index, &("view", feed)).finish())
            }
            Document::EmbedScript => Some(Fingerprint::new(index, &"embed.js").finish()),
        }
    }
}

/// A date as the `SystemTime` HTTP dates are made from, to the second (never before 1970).
fn to_system_time(date: chrono::DateTime<chrono::FixedOffset>) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(date.timestamp().max(0) as u64)
}

/// A rendered feed as served.
pub fn rendered_feed(output: feed::Output, media_type: &'static str) -> Rendered {
    let complete = output.complete;
    Rendered { complete, ..Rendered::new(output.bytes, output.updated.map(to_system_time), media_type) }
}
