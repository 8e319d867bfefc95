//! `tidings build --upload s3://BUCKET[/PREFIX]`: puts the static export into S3-compatible
//! object storage, sending only what changed.
//!
//! S3 gives every object the MD5 of its bytes as `ETag` and the upload time as
//! `Last-Modified`, and answers conditional GETs with those. Sending identical bytes again
//! would keep the ETag but move `Last-Modified` (and wake every `If-Modified-Since` reader), so
//! an object is sent only when it is new, its bytes' MD5 differs from the listed ETag, or a
//! HEAD shows headers other than tidings would send (`Content-Type`, `Cache-Control`,
//! `Content-Encoding`, `x-amz-meta-tidings-etag`: a changed `max_age` must reach the bucket
//! too). S3 does no content negotiation: whatever is stored is sent to every client, so one
//! representation per document is stored, the identity bytes by default (see [`Encoding`]);
//! the `.gz`/`.br` twins of the export are for servers that negotiate.
//!
//! # Layout
//! - [`sigv4`]: AWS Signature Version 4, pure, checked against AWS's test vectors.
//! - `client`: the signed, retried, time-bounded requests (ListObjectsV2, HEAD, PUT, DELETE).
//! - `listing`: the XML of listings and errors, and the objects a listing names (`Listed`).
//! - here: the destination, the options, and the plan (what to send, what to keep).

mod client;
mod listing;
pub mod sigv4;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use md5::{Digest, Md5};
use rayon::prelude::*;

use client::Client;
pub use client::{Endpoint, EndpointError, RetryPolicy};
use listing::Listed;

use crate::export::Written;

/// Requests in flight at once (HEADs, PUTs or DELETEs).
const IN_FLIGHT: usize = 8;
/// The metadata header that carries tidings' own strong ETag of the stored representation.
const META_ETAG: &str = "x-amz-meta-tidings-etag";

/// A bucket and a key prefix: `s3://feeds/site` stores `feed.atom` as `site/feed.atom`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The bucket name.
    pub bucket: String,
    /// Empty, or the prefix with one trailing `/`.
    pub prefix: String,
}

/// Why an `--upload` value is not a destination; each variant holds the value as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestinationError {
    /// It does not start with `s3://`.
    NotS3(String),
    /// The bucket is empty, too long, or has other characters than letters, digits, `.`, `-`, `_`.
    Bucket {
        /// The whole value.
        text: String,
        /// The bucket part.
        bucket: String,
    },
    /// The prefix has an empty, `.` or `..` segment.
    Prefix(String),
}

impl std::fmt::Display for DestinationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DestinationError::NotS3(text) => {
                write!(f, "{text:?}: write the destination as s3://BUCKET or s3://BUCKET/PREFIX")
            }
            DestinationError::Bucket { text, bucket } => {
                write!(f, "{text:?}: {bucket:?} is not a bucket name (letters, digits, `.`, `-`, `_`)")
            }
            DestinationError::Prefix(text) => write!(f, "{text:?}: the prefix has an empty, `.` or `..` segment"),
        }
    }
}

impl std::error::Error for DestinationError {}

/// Why the upload's options are not usable (checked before anything is built).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionsError {
    /// `--s3-endpoint` (or the one made from the region) is not an endpoint.
    Endpoint(EndpointError),
    /// The access key or the secret is not in the environment.
    NoCredentials,
}

impl std::fmt::Display for OptionsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionsError::Endpoint(e) => write!(f, "{e}"),
            OptionsError::NoCredentials => {
                f.write_str("--upload needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
            }
        }
    }
}

impl std::error::Error for OptionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OptionsError::Endpoint(e) => Some(e),
            OptionsError::NoCredentials => None,
        }
    }
}

impl Destination {
    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX` (slashes around the prefix are optional).
    pub fn parse(text: &str) -> Result<Destination, DestinationError> {
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(DestinationError::NotS3(text.to_owned()));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = !bucket.is_empty()
            && bucket.len() <= 255
            && bucket.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !bucket_ok {
            return Err(DestinationError::Bucket { text: text.to_owned(), bucket: bucket.to_owned() });
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.is_empty() && prefix.split('/').any(|segment| matches!(segment, "" | "." | "..")) {
            return Err(DestinationError::Prefix(text.to_owned()));
        }
        let prefix = if prefix.is_empty() { String::new() } else { format!("{prefix}/") };
        Ok(Destination { bucket: bucket.to_owned(), prefix })
    }

    /// The object key of an export path (`tags/rust/feed.atom`, `/`-separated). Empty, `.`
    /// and `..` segments are dropped: a key never has one (the export writes no such path).
    pub fn key(&self, export_path: &str) -> String {
        let segments = export_path.split('/').filter(|s| !matches!(*s, "" | "." | ".."));
        format!("{}{}", self.prefix, segments.collect::<Vec<_>>().join("/"))
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// The one representation stored per document: S3 sends it to every client as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// The uncompressed bytes: every client can read them (a CDN in front may compress).
    Identity,
    /// The gzip twin with `Content-Encoding: gzip`: smaller, but sent compressed even to
    /// clients that did not ask for gzip.
    Gzip,
}

/// The command-line options of the upload, flattened into `tidings build`.
#[derive(clap::Args, Debug)]
pub struct UploadArgs {
    /// After writing the export, upload it to S3-compatible storage: `s3://BUCKET` or
    /// `s3://BUCKET/PREFIX`. Only new and changed objects are sent. Credentials come from
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    #[arg(long, env = "TIDINGS_UPLOAD", value_name = "S3_URL", value_parser = Destination::parse)]
    pub upload: Option<Destination>,
    /// The S3 endpoint, requests path-style [default: https://s3.REGION.amazonaws.com].
    #[arg(long, env = "TIDINGS_S3_ENDPOINT", value_name = "URL")]
    pub s3_endpoint: Option<String>,
    /// The region requests are signed for.
    #[arg(long, env = "AWS_REGION", value_name = "REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// What each object holds: `identity` (readable by every client) or `gzip` (stored
    /// compressed with Content-Encoding: gzip, which S3 sends to every client).
    #[arg(long, env = "TIDINGS_S3_ENCODING", value_enum, default_value_t = Encoding::Identity)]
    pub s3_encoding: Encoding,
    /// Also delete the objects under the prefix that the export no longer has (with no
    /// prefix: anything else in the bucket).
    #[arg(long, env = "TIDINGS_S3_DELETE")]
    pub s3_delete: bool,
}

impl UploadArgs {
    /// The upload's settings, `None` without `--upload`; checked before anything is built.
    pub fn options(&self) -> Result<Option<Options>, OptionsError> {
        let Some(destination) = self.upload.clone() else { return Ok(None) };
        let endpoint = match &self.s3_endpoint {
            Some(url) => url.clone(),
            None => format!("https://s3.{}.amazonaws.com", self.s3_region),
        };
        let endpoint = Endpoint::parse(&endpoint).map_err(OptionsError::Endpoint)?;
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (Some(access_key_id), Some(secret_access_key)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(OptionsError::NoCredentials);
        };
        let credentials =
            sigv4::Credentials { access_key_id, secret_access_key, session_token: var("AWS_SESSION_TOKEN") };
        Ok(Some(Options {
            destination,
            endpoint,
            region: self.s3_region.clone(),
            credentials,
            encoding: self.s3_encoding,
            delete: self.s3_delete,
            policy: RetryPolicy::S3,
        }))
    }
}

/// Everything an upload needs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Bucket and prefix.
    pub destination: Destination,
    /// Where requests go.
    pub endpoint: Endpoint,
    /// The region signatures are made for.
    pub region: String,
    /// The key that signs.
    pub credentials: sigv4::Credentials,
    /// Which representation is stored.
    pub encoding: Encoding,
    /// Whether objects the export no longer has are deleted.
    pub delete: bool,
    /// Retries and timeouts of each request.
    pub policy: RetryPolicy,
}

/// What an upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Documents of the export.
    pub objects: usize,
    /// Objects sent (new, or bytes or headers changed).
    pub put: usize,
    /// Objects already as the export has them.
    pub unchanged: usize,
    /// Objects deleted (with `delete`).
    pub deleted: usize,
    /// Objects under the prefix the export does not have, left in place (without `delete`).
    pub kept: usize,
    /// Bytes sent.
    pub bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// An upload that stopped: the operation (`PUT s3://b/feed.atom`) and why, on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    operation: String,
    detail: String,
}

impl Failure {
    fn new(operation: &str, detail: impl Into<String>) -> Failure {
        Failure { operation: operation.to_owned(), detail: detail.into() }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.operation, self.detail)
    }
}

impl std::error::Error for Failure {}

/// One document as it should be in the bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Wanted {
    key: String,
    /// The export file holding the stored representation.
    file: PathBuf,
    /// Lowercase hex MD5 of that file: S3's ETag of a single-part upload.
    md5: String,
    content_type: &'static str,
    cache_control: String,
    content_encoding: Option<&'static str>,
    tidings_etag: String,
}

impl Wanted {
    /// The headers a PUT sends, besides those of every request.
    fn headers(&self) -> Vec<(&str, &str)> {
        let mut headers = vec![("content-type", self.content_type), ("cache-control", self.cache_control.as_str())];
        if let Some(encoding) = self.content_encoding {
            headers.push(("content-encoding", encoding));
        }
        headers.push((META_ETAG, &self.tidings_etag));
        headers
    }

    /// Whether an object's headers (from a HEAD) are the ones a PUT would give it.
    fn headers_match(&self, headers: &http::HeaderMap) -> bool {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let encoding = get("content-encoding").filter(|e| !e.is_empty() && *e != "identity");
        get("content-type") == Some(self.content_type)
            && get("cache-control") == Some(self.cache_control.as_str())
            && encoding == self.content_encoding
            && get(META_ETAG) == Some(self.tidings_etag.as_str())
    }
}

/// Which objects to send, which to check, which the export no longer has.
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    /// Indexes of wanted objects that are missing or whose bytes differ.
    put: Vec<usize>,
    /// Indexes of wanted objects with the same bytes: their headers are checked.
    same_bytes: Vec<usize>,
    /// Listed keys the export does not have.
    stale: Vec<String>,
}

/// Compares the export (`(key, md5)` pairs) with a listing. Pure.
fn plan(wanted: &[(&str, &str)], listed: &[Listed]) -> Plan {
    let etags: BTreeMap<&str, &str> = listed.iter().map(|o| (o.key.as_str(), o.etag.as_str())).collect();
    let mut plan = Plan::default();
    for (i, (key, md5)) in wanted.iter().enumerate() {
        match etags.get(key) {
            Some(etag) if etag_is_md5(etag, md5) => plan.same_bytes.push(i),
            _ => plan.put.push(i),
        }
    }
    let keys: BTreeSet<&str> = wanted.iter().map(|(key, _)| *key).collect();
    plan.stale = listed.iter().filter(|o| !keys.contains(o.key.as_str())).map(|o| o.key.clone()).collect();
    plan
}

/// Whether an S3 ETag (quoted or not) is this MD5. A multipart or SSE-KMS object's ETag is
/// not an MD5, so such an object is sent again.
fn etag_is_md5(etag: &str, md5: &str) -> bool {
    let etag = etag.trim().trim_start_matches("W/").trim_matches('"');
    etag.len() == 32 && etag.eq_ignore_ascii_case(md5)
}

/// Lowercase hex MD5 of `bytes`.
fn md5_hex(bytes: &[u8]) -> String {
    sigv4::hex(&Md5::digest(bytes))
}

/// Uploads the documents of an export written to `out`: lists the prefix, compares, then
/// sends, and (with `delete`) deletes, at most [`IN_FLIGHT`] requests at a time. Stops at the
/// first request that fails after its retries.
pub fn upload(out: &Path, written: &[Written], options: &Options) -> Result<Summary, Failure> {
    let started = Instant::now();
    let wanted = wanted(out, written, options)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new("upload", format!("cannot start the async runtime: {e}")))?;
    let mut summary = runtime.block_on(sync(wanted, options))?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Every document's object: key, file, MD5 and headers (one per key: the first document).
fn wanted(out: &Path, written: &[Written], options: &Options) -> Result<Vec<Wanted>, Failure> {
    let mut seen = BTreeSet::new();
    let unique: Vec<&Written> = written.iter().filter(|w| seen.insert(options.destination.key(&w.path))).collect();
    unique
        .par_iter()
        .map(|w| {
            let (suffix, content_encoding, tidings_etag) = match options.encoding {
                Encoding::Identity => ("", None, &w.etag),
                Encoding::Gzip => (".gz", Some("gzip"), &w.gzip_etag),
            };
            let file = out.join(format!("{}{suffix}", w.path));
            let bytes =
                std::fs::read(&file).map_err(|e| Failure::new(&format!("read {}", file.display()), e.to_string()))?;
            Ok(Wanted {
                key: options.destination.key(&w.path),
                md5: md5_hex(&bytes),
                file,
                content_type: w.media_type,
                cache_control: w.cache_control.clone(),
                content_encoding,
                tidings_etag: tidings_etag.clone(),
            })
        })
        .collect()
}

/// The network part of an upload.
async fn sync(wanted: Vec<Wanted>, options: &Options) -> Result<Summary, Failure> {
    let client =
        Client::new(options.endpoint.clone(), options.region.clone(), options.credentials.clone(), options.policy);
    let bucket = options.destination.bucket.clone();
    let listed = client.list(&bucket, &options.destination.prefix).await?;
    let pairs: Vec<(&str, &str)> = wanted.iter().map(|w| (w.key.as_str(), w.md5.as_str())).collect();
    let plan = plan(&pairs, &listed);

    // Same bytes: a HEAD tells whether the headers are the ones tidings sends now.
    let heads = bounded(plan.same_bytes.iter().map(|&i| (i, wanted[i].clone())), |(i, object)| {
        let (client, bucket) = (client.clone(), bucket.clone());
        async move {
            let headers = client.head(&bucket, &object.key).await?;
            Ok((i, headers.is_some_and(|h| object.headers_match(&h))))
        }
    })
    .await?;
    let mut to_put = plan.put.clone();
    to_put.extend(heads.iter().filter(|(_, current)| !current).map(|(i, _)| *i));
    to_put.sort_unstable();

    let sent = bounded(to_put.iter().map(|&i| wanted[i].clone()), |object| {
        let (client, bucket) = (client.clone(), bucket.clone());
        async move {
            let operation = format!("PUT s3://{bucket}/{}", object.key);
            let bytes = read_off_runtime(object.file.clone())
                .await
                .map_err(|e| Failure::new(&operation, format!("{}: {e}", object.file.display())))?;
            if md5_hex(&bytes) != object.md5 {
                return Err(Failure::new(&operation, format!("{} changed during the upload", object.file.display())));
            }
            let size = bytes.len() as u64;
            client.put(&bucket, &object.key, &object.headers(), Bytes::from(bytes)).await?;
            Ok(size)
        }
    })
    .await?;

    let mut summary = Summary {
        objects: wanted.len(),
        put: sent.len(),
        unchanged: wanted.len() - sent.len(),
        bytes: sent.iter().sum(),
        ..Summary::default()
    };
    if options.delete {
        let deleted = bounded(plan.stale.iter().cloned(), |key| {
            let (client, bucket) = (client.clone(), bucket.clone());
            async move { client.delete(&bucket, &key).await }
        })
        .await?;
        summary.deleted = deleted.len();
    } else {
        summary.kept = plan.stale.len();
    }
    Ok(summary)
}

/// The bytes of `file`, read on the runtime's blocking pool: a slow disk (or a file that is
/// not a regular one) holds up no request in flight.
async fn read_off_runtime(file: PathBuf) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || std::fs::read(file)).await.map_err(std::io::Error::other)?
}

/// Runs `task` on every item, at most [`IN_FLIGHT`] at a time; the results in completion
/// order, or the first failure (the tasks still running are dropped).
async fn bounded<I, T, F, Fut, R>(items: I, task: F) -> Result<Vec<R>, Failure>
where
    I: IntoIterator<Item = T>,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<R, Failure>> + Send + 'static,
    R: Send + 'static,
{
    let joined = |result: Result<Result<R, Failure>, tokio::task::JoinError>| {
        result.map_err(|e| Failure::new("upload", format!("a request task failed: {e}")))?
    };
    let mut running = tokio::task::JoinSet::new();
    let mut results = Vec::new();
    for item in items {
        if running.len() >= IN_FLIGHT
            && let Some(result) = running.join_next().await
        {
            results.push(joined(result)?);
        }
        running.spawn(task(item));
    }
    while let Some(result) = running.join_next().await {
        results.push(joined(result)?);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_never_have_dot_segments() {
        let destination = Destination::parse("s3://b/site").unwrap();
        assert_eq!(destination.key("../../x/./feed.xml"), "site/x/feed.xml");
    }

    #[test]
    fn destinations_and_keys() {
        let check = |url: &str, path: &str, bucket: &str, key: &str| {
            let destination = Destination::parse(url).unwrap();
            assert_eq!((destination.bucket.as_str(), destination.key(path).as_str()), (bucket, key), "{url}");
        };
        check("s3://feeds", "feed.atom", "feeds", "feed.atom");
        check("s3://feeds/", "tags/rust/feed.rss", "feeds", "tags/rust/feed.rss");
        check("s3://feeds/site", "feed.atom", "feeds", "site/feed.atom");
        check("s3://feeds/site/", "/feed.atom", "feeds", "site/feed.atom");
        check("s3://feeds/a/b/", "feeds/page/2/x.json", "feeds", "a/b/feeds/page/2/x.json");
        check("s3://my.bucket-1/x", "tags/main cat/feed.json", "my.bucket-1", "x/tags/main cat/feed.json");
        assert_eq!(Destination::parse("s3://feeds/site").unwrap().to_string(), "s3://feeds/site/");
        for bad in ["feeds", "http://feeds/x", "s3://", "s3:///x", "s3://a b", "s3://b/x//y", "s3://b/../x"] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
        let message = |text: &str| Destination::parse(text).unwrap_err().to_string();
        assert_eq!(message("feeds"), "\"feeds\": write the destination as s3://BUCKET or s3://BUCKET/PREFIX");
        assert_eq!(message("s3://a b"), "\"s3://a b\": \"a b\" is not a bucket name (letters, digits, `.`, `-`, `_`)");
        assert_eq!(message("s3://b/../x"), "\"s3://b/../x\": the prefix has an empty, `.` or `..` segment");
        assert_eq!(
            Destination::parse("s3:///x"),
            Err(DestinationError::Bucket { text: "s3:///x".into(), bucket: "".into() })
        );
    }

    #[test]
    fn md5_is_the_etag_of_a_single_part_upload() {
        // RFC 1321's test suite.
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        let md5 = "900150983cd24fb0d6963f7d28e17f72";
        assert!(etag_is_md5("\"900150983cd24fb0d6963f7d28e17f72\"", md5));
        assert!(etag_is_md5("900150983CD24FB0D6963F7D28E17F72", md5));
        assert!(!etag_is_md5("\"900150983cd24fb0d6963f7d28e17f72-2\"", md5), "multipart");
        assert!(!etag_is_md5("\"d41d8cd98f00b204e9800998ecf8427e\"", md5));
        assert!(!etag_is_md5("", md5));
    }

    fn listed(key: &str, etag: &str) -> Listed {
        Listed { key: key.into(), etag: etag.into() }
    }

    #[test]
    fn only_new_and_changed_bytes_are_sent_and_the_rest_is_checked_or_stale() {
        let a = md5_hex(b"a");
        let b = md5_hex(b"b");
        let wanted = [("p/feed.atom", a.as_str()), ("p/feed.rss", b.as_str()), ("p/new.json", a.as_str())];
        let listing = [listed("p/feed.atom", &a), listed("p/feed.rss", &a), listed("p/gone.rss", &b)];
        assert_eq!(
            plan(&wanted, &listing),
            Plan { put: vec![1, 2], same_bytes: vec![0], stale: vec!["p/gone.rss".into()] }
        );
        assert_eq!(plan(&wanted, &[]), Plan { put: vec![0, 1, 2], ..Plan::default() });
        let all_there = [listed("p/feed.atom", &a), listed("p/feed.rss", &b), listed("p/new.json", &a)];
        assert_eq!(plan(&wanted, &all_there), Plan { same_bytes: vec![0, 1, 2], ..Plan::default() });
    }

    fn wanted(encoding: Option<&'static str>) -> Wanted {
        Wanted {
            key: "feed.atom".into(),
            file: PathBuf::from("out/feed.atom"),
            md5: md5_hex(b"x"),
            content_type: "application/atom+xml; charset=utf-8",
            cache_control: "public, max-age=300".into(),
            content_encoding: encoding,
            tidings_etag: "\"0123\"".into(),
        }
    }

    fn head(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        pairs.iter().map(|(n, v)| (http::HeaderName::from_static(n), http::HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn a_changed_header_means_sending_again() {
        let current = [
            ("content-type", "application/atom+xml; charset=utf-8"),
            ("cache-control", "public, max-age=300"),
            ("x-amz-meta-tidings-etag", "\"0123\""),
            ("etag", "\"whatever\""),
        ];
        assert!(wanted(None).headers_match(&head(&current)));
        assert!(!wanted(Some("gzip")).headers_match(&head(&current)));
        let mut gzipped = current.to_vec();
        gzipped.push(("content-encoding", "gzip"));
        assert!(wanted(Some("gzip")).headers_match(&head(&gzipped)));
        assert!(!wanted(None).headers_match(&head(&gzipped)));
        for i in 0..3 {
            let mut changed = current.to_vec();
            changed[i].1 = "other";
            assert!(!wanted(None).headers_match(&head(&changed)), "{}", changed[i].0);
            changed.remove(i);
            assert!(!wanted(None).headers_match(&head(&changed)), "without {}", current[i].0);
        }
    }

    #[test]
    fn reading_a_file_to_upload_leaves_the_runtime_free() {
        // Issue 26, item 3: the upload read files on its (single-threaded) runtime, stopping
        // every request in flight while it read. A FIFO stands for a slow disk: opening it
        // waits until it has a writer, and the writer here comes only after the runtime has
        // run another task meanwhile.
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("feed.atom");
        let name = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; mkfifo takes no other pointer.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let (ran, other_task_ran) = std::sync::mpsc::channel();
        let path = fifo.clone();
        let reader = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let other = async move {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    ran.send(()).unwrap();
                };
                tokio::join!(read_off_runtime(path), other).0
            })
        });
        let free = other_task_ran.recv_timeout(Duration::from_secs(10)).is_ok();
        // Unblock the read either way, so the thread ends.
        std::fs::write(&fifo, b"<feed/>").unwrap();
        assert_eq!(reader.join().unwrap().unwrap(), b"<feed/>");
        assert!(free, "the runtime ran nothing else while the file was read");
    }

    #[test]
    fn put_headers_carry_type_caching_coding_and_tidings_etag() {
        assert_eq!(
            wanted(Some("gzip")).headers(),
            [
                ("content-type", "application/atom+xml; charset=utf-8"),
                ("cache-control", "public, max-age=300"),
                ("content-encoding", "gzip"),
                ("x-amz-meta-tidings-etag", "\"0123\""),
            ]
        );
    }
}
