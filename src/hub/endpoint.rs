//! The hub's place in the service: `POST /hub` takes subscription requests ([`HubEndpoint`]),
//! and every changed feed goes to its subscribers ([`HubDelivery`]).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::BodyExt;

use super::service::{HUB_PATH, Hub};
use crate::cache::FeedCache;
use crate::feed::FeedKey;
use crate::hooks::{Answer, Body, Call, Endpoint, FeedsChanged, RequestBody};
use crate::http::respond::text;
use crate::index::Index;
use crate::metrics::Route;

/// Longest subscription request body the hub reads.
const MAX_HUB_BODY: usize = 16 * 1024;

/// The built-in hub's endpoint: `POST` a subscription request, `202` when it is taken (the
/// verification follows), else the status and why.
pub struct HubEndpoint(pub Hub);

impl Endpoint for HubEndpoint {
    fn path(&self) -> &'static str {
        HUB_PATH
    }

    fn route(&self) -> Route {
        Route::Hub
    }

    fn answer(&self, call: Call) -> Answer<'_> {
        Box::pin(subscribe(&self.0, call))
    }
}

/// Hands every changed feed to the hub to deliver, rendered through `cache`.
pub struct HubDelivery {
    /// The hub.
    pub hub: Hub,
    /// Where feeds are rendered (or found rendered).
    pub cache: FeedCache,
}

impl FeedsChanged for HubDelivery {
    fn concerns(&self, _: &Index, _: &Index) -> bool {
        true
    }

    fn feeds_changed<'a>(
        &'a self,
        _: &'a Index,
        new: &'a std::sync::Arc<Index>,
        keys: &'a [FeedKey],
    ) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        self.hub.distribute(new.clone(), keys.to_vec(), self.cache.clone());
        Box::pin(std::future::ready(()))
    }
}

async fn subscribe(hub: &Hub, call: Call) -> Response<Body> {
    let Call { request, peer, index, .. } = call;
    if request.method() != Method::POST {
        let mut response = text(
            StatusCode::METHOD_NOT_ALLOWED,
            "this is a WebSub hub: POST hub.mode=subscribe, hub.topic and hub.callback here (W3C WebSub 5.1)\n",
        );
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let form = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !form {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the subscription request as application/x-www-form-urlencoded (W3C WebSub 5.1)\n",
        );
    }
    let body =
        match tokio::time::timeout(Duration::from_secs(10), read_at_most(request.into_body(), MAX_HUB_BODY)).await {
            Ok(Ok(body)) => body,
            Ok(Err(problem)) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the request body could not be read ({problem}); send at most {MAX_HUB_BODY} bytes\n"),
                );
            }
            Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "the request body took longer than 10 s\n"),
        };
    match hub.take(&body, &index, peer).await {
        Ok(()) => text(
            StatusCode::ACCEPTED,
            "accepted: the hub now asks the callback to confirm with a GET carrying hub.challenge\n",
        ),
        Err(refused) => text(refused.status, &format!("{}\n", refused.message)),
    }
}

/// The whole of `body`, or why not: it failed, or it was longer than `limit` bytes (what was
/// read so far is then dropped at once).
async fn read_at_most(mut body: RequestBody, limit: usize) -> Result<Bytes, String> {
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| e.to_string())?;
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > limit {
                return Err("length limit exceeded".to_owned());
            }
            read.extend_from_slice(&data);
        }
    }
    Ok(read.freeze())
}
