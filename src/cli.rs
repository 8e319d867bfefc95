//! The command line: `serve`, `check`, `build`, `probe` and `stats`, each a few lines over one loaded site. The only
//! code (with `main`) that prints or chooses exit codes.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::content::{self, Sources};
use crate::diagnostic::Severity;
use crate::http::{self, ServerOptions};
use crate::{service, watch};

/// Exit code for content errors found by `check`.
const EXIT_CONTENT_ERRORS: u8 = 1;
/// Exit code for usage, configuration and I/O failures.
const EXIT_FAILURE: u8 = 2;

/// tidings: RSS and Atom feeds from a folder of Markdown posts.
#[derive(Parser, Debug)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve every feed over HTTP.
    Serve(ServeArgs),
    /// Report every problem in the content as `path:line:col: message`; exit 1 on errors.
    Check(CheckArgs),
    /// Write every feed, page and discovery document (with .gz and .br twins) for static hosting.
    Build(BuildArgs),
    /// GET a URL of a running server; exit 0 on a 2xx answer, 1 otherwise (for HEALTHCHECK).
    Probe(ProbeArgs),
    /// Print each feed's subscribers: aggregators' own counts, distinct pollers, hub subscriptions.
    #[cfg(feature = "counts")]
    Stats(StatsArgs),
}

/// Where the hub's subscriptions and the subscriber counts are kept.
#[cfg(feature = "db")]
#[derive(Args, Debug)]
struct DatabaseArgs {
    /// The database: a SQLite file (created on first use) or `postgres://user@host/name`
    /// (shared by replicas) [default: `tidings.db` beside the content folder].
    #[arg(long, env = "TIDINGS_DATABASE")]
    database: Option<String>,
}

#[cfg(feature = "db")]
impl DatabaseArgs {
    /// The database to open for the site whose posts are in `content`.
    fn spec(&self, content: &std::path::Path) -> String {
        self.database.clone().unwrap_or_else(|| {
            let beside = content.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            beside.join("tidings.db").display().to_string()
        })
    }
}

#[cfg(feature = "counts")]
#[derive(Args, Debug)]
struct StatsArgs {
    /// The folder of posts (the default database is beside it).
    #[arg(long, env = "TIDINGS_CONTENT", default_value = "content")]
    content: PathBuf,
    #[command(flatten)]
    database: DatabaseArgs,
    /// The day to show, `YYYY-MM-DD` (UTC) [default: today].
    #[arg(long)]
    day: Option<chrono::NaiveDate>,
}

/// Where the site comes from; shared by every command.
#[derive(Args, Debug)]
struct SourceArgs {
    /// The folder of posts.
    #[arg(long, env = "TIDINGS_CONTENT", default_value = "content")]
    content: PathBuf,
    /// The folder with site.yaml, authors.yaml and curated feeds [default: `feeds`, or
    /// `_tidings` inside a Jekyll site (a content folder with `_config.yml`)].
    #[arg(long, env = "TIDINGS_FEEDS")]
    feeds: Option<PathBuf>,
    /// Include posts from `_drafts/`.
    #[arg(long, env = "TIDINGS_DRAFTS")]
    drafts: bool,
    /// The URL the feeds link to, overriding `base_url` in site.yaml.
    #[arg(long, env = "TIDINGS_BASE_URL")]
    base_url: Option<String>,
    /// Largest post file read, in bytes; bigger ones are reported and left out.
    #[arg(long, env = "TIDINGS_MAX_POST_BYTES", default_value_t = content::MAX_POST_BYTES)]
    max_post_bytes: u64,
    /// Memory for rendered post bodies and documents, one budget for both: bytes, or with a
    /// unit (`512K`, `256M`, `2G`; binary units).
    #[arg(long, env = "TIDINGS_CACHE_BYTES", default_value = "256M", value_parser = parse_bytes)]
    cache_bytes: u64,
    /// Longest time, in milliseconds, for one post's body: a feed whose post takes longer is
    /// served without that body (and not cached) and the post is reported. Liquid stops
    /// there too, in `serve`, `check` and `build`: the body is then shown empty and reported.
    #[arg(long, env = "TIDINGS_RENDER_BUDGET_MS", default_value_t = content::RENDER_BUDGET.as_millis() as u64)]
    render_budget_ms: u64,
}

/// `256M` → 268435456: a byte count, with an optional binary unit (K, M, G, with or without
/// `iB`/`B`).
fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a size: write e.g. 268435456 or 256M"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        other => return Err(format!("unknown unit {other:?}: use K, M or G")),
    };
    number.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}

impl SourceArgs {
    /// Where to read from. A feeds folder named on the command line (or in `TIDINGS_FEEDS`)
    /// must exist: a mistyped one would silently drop the site's title, authors and curated
    /// feeds. The default folder may be missing.
    fn sources(&self) -> Result<Sources, String> {
        if let Some(feeds) = &self.feeds
            && !feeds.is_dir()
        {
            return Err(format!(
                "{}: feeds folder not found: check `--feeds` (or TIDINGS_FEEDS), or leave it out to use the defaults",
                feeds.display()
            ));
        }
        Ok(Sources {
            content_dir: self.content.clone(),
            feeds_dir: self.feeds.clone().unwrap_or_else(|| {
                // A Jekyll site keeps tidings' own settings inside it, so `--content` alone serves
                // it as it is, whatever folder tidings is started from.
                if crate::content::jekyll_config(&self.content).is_some() {
                    self.content.join("_tidings")
                } else {
                    "feeds".into()
                }
            }),
            drafts: self.drafts,
            base_url: self.base_url.clone(),
            max_post_bytes: self.max_post_bytes,
            render_budget: std::time::Duration::from_millis(self.render_budget_ms),
            cache_bytes: self.cache_bytes,
            own_hub: None,
        })
    }
}

#[derive(Args, Debug)]
struct BuildArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The folder to write into (created if needed).
    #[arg(long, env = "TIDINGS_OUT")]
    out: PathBuf,
    #[cfg(feature = "s3")]
    #[command(flatten)]
    upload: crate::s3::UploadArgs,
}

#[derive(Args, Debug)]
struct ProbeArgs {
    /// The plain-HTTP URL to ask.
    #[arg(default_value = "http://127.0.0.1:8080/readyz")]
    url: String,
    /// Longest wait for the answer, in milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
}

#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Output: `text` (one problem a line, then a summary) or `json` (one JSON document with
    /// every problem).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, hide_possible_values = true)]
    format: LogFormat,
}

#[derive(Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Address to listen on: `IP:PORT`, `localhost:PORT`, `PORT` (on 127.0.0.1) or `:PORT` (on
    /// every interface).
    #[arg(long, env = "TIDINGS_ADDR", default_value = "127.0.0.1:8080", value_parser = listen_address)]
    addr: SocketAddr,
    /// Not a flag of tidings: says to use `--addr`.
    #[arg(long, hide = true)]
    port: Option<String>,
    /// Open connections at most; past it the one idle longest is closed to make room, and
    /// when none is idle new ones get a 503.
    #[arg(long, env = "TIDINGS_MAX_CONNECTIONS", default_value_t = http::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// Open connections from one client address (IPv6: one /64) at most; past it that
    /// address's connection idle longest is closed, or the new one gets a 503. Behind a
    /// reverse proxy every client has the proxy's address: raise it to --max-connections.
    #[arg(
        long,
        env = "TIDINGS_MAX_CONNECTIONS_PER_ADDRESS",
        default_value_t = http::DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    )]
    max_connections_per_address: usize,
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "TIDINGS_SHUTDOWN_GRACE", default_value_t = http::DEFAULT_SHUTDOWN_GRACE.as_secs())]
    shutdown_grace: u64,
    /// Seconds a connection gets to send a request's headers: before its first byte, while
    /// they trickle in, and between keep-alive requests; past it the connection is closed.
    #[arg(long, env = "TIDINGS_IDLE_TIMEOUT", default_value_t = http::DEFAULT_IDLE_TIMEOUT.as_secs())]
    idle_timeout: u64,
    /// Who may read `/diagnostics`: `off`, `local` (loopback clients, the default) or `public`.
    #[arg(long, env = "TIDINGS_DIAGNOSTICS", value_enum, default_value_t = http::Exposure::default())]
    diagnostics: http::Exposure,
    /// Live reload: `notify` (file events), `poll` or `poll=INTERVAL` (stat every file each
    /// interval, e.g. `poll=5s`, for network file systems that send no events), or `off`.
    #[arg(long, env = "TIDINGS_WATCH", default_value = "notify")]
    watch: watch::Watch,
    /// Seconds between two full (200) responses of one feed to one address (IPv6: one /64),
    /// after a burst of 4; sooner gets 429 with Retry-After. 304s and HEADs never count and
    /// are always answered. 0 (the default) refuses nothing.
    #[arg(long, env = "TIDINGS_MIN_POLL_INTERVAL", default_value_t = 0)]
    min_poll_interval: u64,
    /// Log format: `text` (for people) or `json` (for log collectors).
    #[arg(long, env = "TIDINGS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[cfg(feature = "hub")]
    #[command(flatten)]
    hub: HubArgs,
    #[cfg(feature = "counts")]
    #[command(flatten)]
    counts: CountArgs,
    #[cfg(feature = "db")]
    #[command(flatten)]
    database: DatabaseArgs,
}

/// `serve`'s built-in WebSub hub.
#[cfg(feature = "hub")]
#[derive(Args, Debug)]
struct HubArgs {
    /// Run a WebSub hub at `/hub` (W3C WebSub): feeds advertise it, it verifies
    /// subscriptions and POSTs each changed feed to its subscribers.
    #[arg(long, env = "TIDINGS_HUB")]
    hub: bool,
    /// Let the hub call back to loopback, private and link-local addresses (tests, private
    /// networks); refused by default, since strangers choose the callback URLs.
    #[arg(long, env = "TIDINGS_HUB_ALLOW_PRIVATE")]
    hub_allow_private: bool,
    /// The hub's lease when a subscriber asks for none, in seconds.
    #[arg(long, env = "TIDINGS_HUB_LEASE", default_value_t = crate::hub::request::LeasePolicy::DEFAULT.default)]
    hub_lease: u64,
    /// The longest lease the hub grants, in seconds.
    #[arg(long, env = "TIDINGS_HUB_MAX_LEASE", default_value_t = crate::hub::request::LeasePolicy::DEFAULT.max)]
    hub_max_lease: u64,
    /// Live hub subscriptions at most per address their callbacks resolve to (IPv6: per /64),
    /// however many host names point there.
    #[arg(long, env = "TIDINGS_HUB_MAX_PER_ADDRESS", default_value_t = crate::hub::service::MAX_PER_ADDRESS)]
    hub_max_per_address: u64,
    /// Live hub subscriptions at most per registrable domain of their callbacks
    /// (`a.example.co.uk` and `b.example.co.uk` are one), so wildcard DNS gives no more.
    #[arg(long, env = "TIDINGS_HUB_MAX_PER_DOMAIN", default_value_t = crate::hub::service::MAX_PER_DOMAIN)]
    hub_max_per_domain: u64,
    /// Live hub subscriptions at most in all; past it `POST /hub` gets 503.
    #[arg(long, env = "TIDINGS_HUB_MAX_SUBSCRIPTIONS", default_value_t = crate::hub::service::MAX_SUBSCRIPTIONS)]
    hub_max_subscriptions: u64,
    /// `POST /hub` requests a minute per client address (IPv6: per /64); more get 429. 0: no limit.
    #[arg(long, env = "TIDINGS_HUB_REQUESTS_PER_MINUTE", default_value_t = crate::hub::service::REQUESTS_PER_MINUTE)]
    hub_requests_per_minute: u32,
}

/// `serve`'s subscriber counts.
#[cfg(feature = "counts")]
#[derive(Args, Debug)]
struct CountArgs {
    /// Count each feed's subscribers per day (aggregators' announced counts, distinct
    /// pollers by a daily-salted hash, hub subscriptions) into the database.
    #[arg(long, env = "TIDINGS_COUNT_SUBSCRIBERS")]
    count_subscribers: bool,
    /// Seconds between two writes of the counts.
    #[arg(long, env = "TIDINGS_COUNTS_EVERY", default_value_t = crate::counts::FLUSH_INTERVAL_SECS)]
    counts_every: u64,
    /// Serve the counts at `/stats` to requests with this token (`Authorization: Bearer
    /// TOKEN` or `?token=TOKEN`); without it `/stats` does not exist.
    #[arg(long, env = "TIDINGS_STATS_TOKEN", hide_env_values = true)]
    stats_token: Option<String>,
}

#[cfg(feature = "hub")]
impl HubArgs {
    /// The hub's settings, when `--hub` asks for it.
    fn settings(&self) -> Option<crate::hub::service::HubSettings> {
        if !self.hub {
            return None;
        }
        let mut hub = crate::hub::service::HubSettings::new(self.hub_allow_private);
        hub.leases.default = self.hub_lease.max(hub.leases.min);
        hub.leases.max = self.hub_max_lease.max(hub.leases.default);
        hub.max_per_address = self.hub_max_per_address;
        hub.max_per_domain = self.hub_max_per_domain;
        hub.max_subscriptions = self.hub_max_subscriptions;
        hub.requests_per_minute = self.hub_requests_per_minute;
        Some(hub)
    }
}

#[cfg(feature = "counts")]
impl CountArgs {
    /// How counts are kept, when `--count-subscribers` asks for them.
    fn settings(&self) -> Option<service::CountSettings> {
        if self.stats_token.is_some() && !self.count_subscribers {
            tracing::warn!("--stats-token without --count-subscribers: /stats has nothing to show and stays off");
        }
        self.count_subscribers.then(|| service::CountSettings {
            every: std::time::Duration::from_secs(self.counts_every.max(1)),
            operator_token: self.stats_token.clone(),
        })
    }
}

/// How `serve` writes its log and `check` its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `--addr` as people write it: `IP:PORT` (`[::1]:8080` too), `localhost:PORT`, `PORT` alone
/// (on 127.0.0.1, like the default) or `:PORT` (on every interface, as Go and Caddy read it).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let port = |p: &str| p.parse::<u16>().ok();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let parsed = match text.rsplit_once(':') {
        None => port(text).map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
        Some(("", p)) => port(p).map(|p| SocketAddr::from(([0, 0, 0, 0], p))),
        Some((host, p)) if host.eq_ignore_ascii_case("localhost") => {
            port(p).map(|p| SocketAddr::from(([127, 0, 0, 1], p)))
        }
        Some(_) => None,
    };
    parsed.ok_or_else(|| {
        format!("{text:?}: write the address as IP:PORT (127.0.0.1:8080, [::1]:8080), localhost:8080, :8080 or 8080")
    })
}

/// Parses the command line and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Serve(args) => serve(&args),
        Command::Build(args) => build(&args),
        Command::Probe(args) => probe(&args),
        #[cfg(feature = "counts")]
        Command::Stats(args) => stats(&args),
    }
}

/// Loads what `args` name, or prints why it cannot be loaded.
fn load_library(args: &SourceArgs) -> Result<content::Library, ExitCode> {
    let sources = args.sources().map_err(|message| {
        eprintln!("error: {message}");
        ExitCode::from(EXIT_FAILURE)
    })?;
    content::Library::load(&sources).map_err(|content::Fatal(d)| {
        eprintln!("error: {d}");
        ExitCode::from(EXIT_FAILURE)
    })
}

fn check(args: &CheckArgs) -> ExitCode {
    let (library, mut site) = match load_library(&args.source) {
        Ok(library) => {
            let site = library.site();
            (library, site)
        }
        Err(code) => return code,
    };
    // Serving renders bodies when feeds show them; check renders them all now.
    site.diagnostics.extend(library.check_bodies());
    site.diagnostics.sort();
    site.diagnostics.dedup();
    let errors = site.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = site.diagnostics.len() - errors;
    let mut out = String::new();
    match args.format {
        LogFormat::Json => {
            let mut report = crate::diagnostic::to_json(&site.diagnostics);
            report["posts"] = site.posts.len().into();
            out = format!("{report:#}\n");
        }
        LogFormat::Text => {
            for d in &site.diagnostics {
                out.push_str(&format!("{}: {d}\n", d.severity.as_str()));
            }
            out.push_str(&format!(
                "check: {errors} {}, {warnings} {} in {} {}\n",
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
                site.posts.len(),
                plural(site.posts.len(), "post", "posts")
            ));
        }
    }
    // A closed pipe (`check | head`) is not an error worth a panic.
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes());
    if errors > 0 { ExitCode::from(EXIT_CONTENT_ERRORS) } else { ExitCode::SUCCESS }
}

fn build(args: &BuildArgs) -> ExitCode {
    let started = std::time::Instant::now();
    #[cfg(feature = "s3")]
    let upload = match args.upload.options() {
        Ok(upload) => upload,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let library = match load_library(&args.source) {
        Ok(library) => library,
        Err(code) => return code,
    };
    for d in library.diagnostics() {
        eprintln!("{}: {d}", d.severity.as_str());
    }
    let index = crate::index::Index::build(&library.posts(), library.bodies(), chrono::Utc::now(), 1);
    let written = crate::export::write_all(&index, &args.out);
    // Bodies are rendered while exporting: what their renders found (a body stopped by
    // Liquid's limits or the render budget among it).
    let mut found = index.bodies.renderer().problems();
    found.sort();
    for d in &found {
        eprintln!("{}: {d}", d.severity.as_str());
    }
    match written {
        Ok(summary) => {
            println!(
                "build: {} documents, {} files ({} changed, {} removed), {} bytes in {:.2} s ({} posts) -> {}",
                summary.documents,
                summary.files,
                summary.changed,
                summary.removed,
                summary.bytes,
                started.elapsed().as_secs_f64(),
                index.posts.len(),
                args.out.display()
            );
            #[cfg(feature = "s3")]
            return upload.map_or(ExitCode::SUCCESS, |options| upload_export(&args.out, &summary, &options));
            #[cfg(not(feature = "s3"))]
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: cannot write: {e}", args.out.display());
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

#[cfg(feature = "s3")]
/// `build --upload`: sends the export to the bucket and says what it did, on one line.
fn upload_export(out: &std::path::Path, export: &crate::export::Summary, options: &crate::s3::Options) -> ExitCode {
    match crate::s3::upload(out, &export.written, options) {
        Ok(s) => {
            let kept = if s.kept > 0 {
                format!(" ({} not in the export kept; --s3-delete removes them)", s.kept)
            } else {
                String::new()
            };
            println!(
                "upload: {} put, {} unchanged, {} deleted, {} bytes in {:.2} s -> {}{kept}",
                s.put,
                s.unchanged,
                s.deleted,
                s.bytes,
                s.elapsed.as_secs_f64(),
                options.destination
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("upload: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn probe(args: &ProbeArgs) -> ExitCode {
    match crate::probe::probe(&args.url, std::time::Duration::from_millis(args.timeout_ms)) {
        Ok(status) => {
            println!("probe: {} answered {status}", args.url);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("probe: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(feature = "counts")]
fn stats(args: &StatsArgs) -> ExitCode {
    let spec = args.database.spec(&args.content);
    if !spec.starts_with("postgres") && !std::path::Path::new(&spec).exists() {
        eprintln!(
            "error: {spec}: no database yet; `tidings serve --count-subscribers` (or --hub) creates it, or name one with --database"
        );
        return ExitCode::from(EXIT_FAILURE);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let day = args.day.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let rows = runtime.block_on(async {
        let db = crate::db::Db::open(&spec).await?;
        db.counts(day - chrono::Duration::days(crate::db::KEEP_DAYS), day, crate::counts::agents::MAX_PLAUSIBLE).await
    });
    match rows {
        Ok(rows) => {
            let _ = std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                crate::counts::report::table(&rows, day).as_bytes(),
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn serve(args: &ServeArgs) -> ExitCode {
    if let Some(port) = &args.port {
        eprintln!("error: tidings has no --port: use --addr 127.0.0.1:{port} (or --addr {port})");
        return ExitCode::from(EXIT_FAILURE);
    }
    init_tracing(args.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run_server(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

async fn run_server(args: &ServeArgs) -> Result<(), String> {
    let sources = args.source.sources()?;
    #[cfg(feature = "db")]
    let database = args.database.spec(&sources.content_dir);
    let mut settings = service::Settings::new(sources);
    settings.watch = args.watch;
    settings.min_poll_interval =
        (args.min_poll_interval > 0).then(|| std::time::Duration::from_secs(args.min_poll_interval));
    #[cfg(feature = "db")]
    {
        settings.database = database;
    }
    #[cfg(feature = "hub")]
    {
        settings.hub = args.hub.settings();
    }
    #[cfg(feature = "counts")]
    {
        settings.counts = args.counts.settings();
    }
    let service = service::Service::start(settings).await.map_err(|e| e.to_string())?;
    // The app lists the posts and their problems once; at a million posts each list takes a
    // second or more to make, so the logs below read the app's.
    let problems = service.app.diagnostics();
    for d in problems.iter() {
        match d.severity {
            Severity::Error => tracing::error!("{d}"),
            Severity::Warning => tracing::warn!("{d}"),
        }
    }
    let listener =
        tokio::net::TcpListener::bind(args.addr).await.map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        posts = service.app.post_count(),
        problems = problems.len(),
        base_url = %service.app.index().config.base_url,
        "listening on http://{local}/"
    );
    let idle_timeout = std::time::Duration::from_secs(args.idle_timeout.max(1));
    let options = ServerOptions {
        max_connections: args.max_connections.max(1),
        max_connections_per_address: args.max_connections_per_address.max(1),
        shutdown_grace: std::time::Duration::from_secs(args.shutdown_grace),
        first_byte_timeout: idle_timeout,
        header_read_timeout: idle_timeout,
        diagnostics: args.diagnostics,
    };
    service.serve(listener, options, shutdown_signal()).await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIDINGS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_as_people_write_them() {
        // Issue 28, item 12: only IP:PORT was taken.
        for (written, addr) in [
            ("127.0.0.1:8095", "127.0.0.1:8095"),
            ("[::1]:8095", "[::1]:8095"),
            ("localhost:8095", "127.0.0.1:8095"),
            ("8095", "127.0.0.1:8095"),
            (":8095", "0.0.0.0:8095"),
        ] {
            assert_eq!(super::listen_address(written).unwrap().to_string(), addr, "{written}");
        }
        for bad in ["example.com:80", "8095x", "localhost", ":99999"] {
            assert!(super::listen_address(bad).unwrap_err().contains("IP:PORT"), "{bad}");
        }
    }

    #[test]
    fn check_format_help_describes_what_check_prints() {
        // Issue 28, item 13: it described the log format ("one JSON object per line").
        let mut command = <super::Cli as clap::CommandFactory>::command();
        let check = command.find_subcommand_mut("check").unwrap();
        let help = check.render_long_help().to_string();
        assert!(help.contains("one JSON document with") && !help.contains("per line"), "{help}");
    }

    #[test]
    fn sizes() {
        assert_eq!(super::parse_bytes("1024"), Ok(1024));
        assert_eq!(super::parse_bytes("256M"), Ok(256 << 20));
        assert_eq!(super::parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(super::parse_bytes("512k"), Ok(512 << 10));
        assert!(super::parse_bytes("lots").is_err());
        assert!(super::parse_bytes("5T").is_err());
    }

    /// Issue 16: `/diagnostics` names broken posts' files; only loopback clients read it
    /// unless the flag says otherwise.
    #[test]
    fn diagnostics_are_local_unless_asked_otherwise() {
        use clap::Parser;
        let serve = |extra: &[&str]| {
            let cli = super::Cli::try_parse_from(["tidings", "serve"].iter().chain(extra)).unwrap();
            let super::Command::Serve(args) = cli.command else { panic!("not serve") };
            args.diagnostics
        };
        // The environment may set it (the variable is read, never set, here).
        if std::env::var_os("TIDINGS_DIAGNOSTICS").is_none() {
            assert_eq!(serve(&[]), crate::http::Exposure::Local);
        }
        assert_eq!(serve(&["--diagnostics", "public"]), crate::http::Exposure::Public);
    }
}
