//! The counts' place in the service: the [`Recorder`] hears of every feed poll, and
//! `/stats` shows the table to the operator ([`StatsPage`]).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use http::{HeaderValue, Response, StatusCode};

use super::recorder::Recorder;
use crate::hooks::{Answer, Body, Call, Endpoint, FeedObserver};
use crate::http::respond::{PAGE_CSP, plain, text, uncached};
use crate::metrics::Route;

impl FeedObserver for Recorder {
    fn feed_served(&self, path: &str, peer: IpAddr, user_agent: &str, at: DateTime<Utc>) {
        self.record(path, peer, user_agent, at);
    }
}

/// `/stats`: the subscriber counts page, for those who have the operator's token
/// (`Authorization: Bearer TOKEN` or `?token=TOKEN`); a `401` asking for it otherwise, so an
/// operator can tell a mistyped token from a page switched off, which is a `404`.
pub struct StatsPage(pub Recorder);

impl Endpoint for StatsPage {
    fn path(&self) -> &'static str {
        "/stats"
    }

    fn route(&self) -> Route {
        Route::Ops
    }

    fn answer(&self, call: Call) -> Answer<'_> {
        Box::pin(page(&self.0, call))
    }
}

async fn page(counts: &Recorder, call: Call) -> Response<Body> {
    if !call.operator {
        let mut response = uncached(text(
            StatusCode::UNAUTHORIZED,
            "the subscriber counts need the stats token: send `Authorization: Bearer TOKEN`\n",
        ));
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tidings stats\""));
        return response;
    }
    let today = Utc::now().date_naive();
    let first = today - chrono::Duration::days(89);
    let rows = match counts.db().counts(first, today, super::agents::MAX_PLAUSIBLE).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!("/stats: {e}");
            return text(StatusCode::INTERNAL_SERVER_ERROR, "the counts cannot be read from the database right now\n");
        }
    };
    let page = super::report::page(&rows, today, &call.index.config.title);
    let mut response = uncached(plain(StatusCode::OK, "text/html; charset=utf-8", page));
    response.headers_mut().insert("content-security-policy", HeaderValue::from_static(PAGE_CSP));
    response.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response.headers_mut().insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}
