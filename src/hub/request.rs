//! A subscriber's request to the hub (W3C WebSub §5.1): the `application/x-www-form-urlencoded`
//! body of its POST, read into a [`HubRequest`] or refused with a message that says how to fix
//! it, and the lease the hub grants ([`LeasePolicy`]). Pure: no I/O, no clock.

use url::Url;

/// Most bytes of a request body; a subscription request needs a few hundred.
pub const MAX_BODY: usize = 16 * 1024;
/// Most bytes of `hub.callback` and of `hub.topic`.
pub const MAX_URL: usize = 2048;
/// Most bytes of `hub.secret` (WebSub §5.1: "less than 200 bytes").
pub const MAX_SECRET: usize = 199;

/// What a subscriber asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Start (or renew) a subscription.
    Subscribe,
    /// End a subscription.
    Unsubscribe,
}

/// A subscription request as the hub understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubRequest {
    /// Subscribe or unsubscribe.
    pub mode: Mode,
    /// Where the hub verifies intent and delivers content: absolute http(s), no fragment, no
    /// user name or password.
    pub callback: Url,
    /// The feed URL, as sent (the caller checks it is one of the site's feeds).
    pub topic: String,
    /// The lease the subscriber would like, in seconds (a hint: see [`LeasePolicy::grant`]).
    pub lease_seconds: Option<u64>,
    /// The key for `X-Hub-Signature` on deliveries, when the subscriber wants them signed.
    pub secret: Option<String>,
}

/// Leases a hub grants: default when none is asked, and bounds.
#[derive(Clone, Copy, Debug)]
pub struct LeasePolicy {
    /// Seconds granted when the subscriber asks for no particular lease.
    pub default: u64,
    /// Fewest seconds granted.
    pub min: u64,
    /// Most seconds granted.
    pub max: u64,
}

impl LeasePolicy {
    /// Ten days by default, between five minutes and thirty days.
    pub const DEFAULT: LeasePolicy = LeasePolicy { default: 10 * 86_400, min: 300, max: 30 * 86_400 };

    /// The lease granted for a request: what was asked (or the default), brought within the
    /// bounds; `max` wins when the bounds cross.
    pub fn grant(&self, asked: Option<u64>) -> u64 {
        asked.unwrap_or(self.default).max(self.min).min(self.max)
    }
}

impl Default for LeasePolicy {
    fn default() -> LeasePolicy {
        LeasePolicy::DEFAULT
    }
}

/// The parameters the hub reads; any other is ignored (WebSub §5.1: hubs "MUST ignore
/// additional request parameters they do not understand").
const KNOWN: [&str; 5] = ["hub.mode", "hub.callback", "hub.topic", "hub.lease_seconds", "hub.secret"];

/// Why a subscription request is refused; its `Display` is the 400 body's message, which says how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The body has more than [`MAX_BODY`] bytes (how many it has).
    BodyTooLarge(usize),
    /// A `hub.*` parameter is given more than once (which).
    Repeated(String),
    /// `hub.mode=publish`: this hub takes no publish pings.
    Publish,
    /// `hub.mode` is neither `subscribe` nor `unsubscribe` (what it is).
    Mode(String),
    /// No `hub.mode`.
    NoMode,
    /// No (or an empty) `hub.callback`.
    NoCallback,
    /// `hub.callback` has more than [`MAX_URL`] bytes (how many it has).
    CallbackTooLong(usize),
    /// `hub.callback` is not a URL.
    CallbackNotUrl {
        /// The callback as sent.
        callback: String,
        /// What the URL parser found wrong.
        reason: url::ParseError,
    },
    /// `hub.callback` is a URL of another scheme than http(s).
    CallbackScheme {
        /// The callback as sent.
        callback: String,
        /// Its scheme.
        scheme: String,
    },
    /// `hub.callback` has a fragment (the callback as sent).
    CallbackFragment(String),
    /// `hub.callback` carries a user name or a password (the callback as sent).
    CallbackCredentials(String),
    /// No `hub.topic`.
    NoTopic,
    /// An empty `hub.topic`.
    EmptyTopic,
    /// `hub.topic` has more than [`MAX_URL`] bytes (how many it has).
    TopicTooLong(usize),
    /// `hub.lease_seconds` is not a whole number of seconds (what it is).
    Lease(String),
    /// An empty `hub.secret`.
    EmptySecret,
    /// `hub.secret` has more than [`MAX_SECRET`] bytes (how many it has).
    SecretTooLong(usize),
}

/// How to fix a bad `hub.callback`.
const CALLBACK_FIX: &str = "send an absolute http:// or https:// URL of your subscriber";

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::BodyTooLarge(bytes) => write!(
                f,
                "the request body has {bytes} bytes; a subscription request is at most {MAX_BODY} \
                 (hub.mode, hub.callback, hub.topic, hub.lease_seconds, hub.secret)"
            ),
            RequestError::Repeated(key) => write!(f, "{key} is given more than once; send each hub.* parameter once"),
            RequestError::Publish => {
                f.write_str("this hub distributes the site's own feeds when they change; it takes no publish pings")
            }
            RequestError::Mode(mode) => {
                write!(f, "hub.mode is {mode:?}; send hub.mode=subscribe or hub.mode=unsubscribe")
            }
            RequestError::NoMode => f.write_str("hub.mode is missing; send hub.mode=subscribe or hub.mode=unsubscribe"),
            RequestError::NoCallback => write!(f, "hub.callback is missing; {CALLBACK_FIX}"),
            RequestError::CallbackTooLong(bytes) => {
                write!(f, "hub.callback has {bytes} bytes; a callback URL is at most {MAX_URL}")
            }
            RequestError::CallbackNotUrl { callback, reason } => {
                write!(f, "hub.callback {callback:?} is not a URL ({reason}); {CALLBACK_FIX}")
            }
            RequestError::CallbackScheme { callback, scheme } => {
                write!(f, "hub.callback {callback:?} is a {scheme}: URL; {CALLBACK_FIX}")
            }
            RequestError::CallbackFragment(callback) => write!(
                f,
                "hub.callback {callback:?} has a fragment (#…), which never reaches a server; send the URL without it"
            ),
            RequestError::CallbackCredentials(callback) => write!(
                f,
                "hub.callback {callback:?} carries a user name or password; send the URL without user:password@ \
                 (to tell the hub's calls from others, put a hard-to-guess token in the path or query)"
            ),
            RequestError::NoTopic => f.write_str("hub.topic is missing; send the URL of the feed to subscribe to"),
            RequestError::EmptyTopic => f.write_str("hub.topic is empty; send the URL of the feed to subscribe to"),
            RequestError::TopicTooLong(bytes) => {
                write!(f, "hub.topic has {bytes} bytes; a feed URL here is at most {MAX_URL}")
            }
            RequestError::Lease(lease) => write!(
                f,
                "hub.lease_seconds is {lease:?}; send a whole number of seconds (e.g. 864000), or leave it out \
                 for the hub's default"
            ),
            RequestError::EmptySecret => f.write_str(
                "hub.secret is empty; send a secret of 1 to 199 bytes, or leave it out for \
                 unsigned deliveries",
            ),
            RequestError::SecretTooLong(bytes) => {
                write!(f, "hub.secret has {bytes} bytes; WebSub allows less than 200 (send at most {MAX_SECRET})")
            }
        }
    }
}

impl std::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RequestError::CallbackNotUrl { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// A parsed request, or why it is refused (a message for the 400 body that says how to fix it).
pub fn parse(body: &[u8]) -> Result<HubRequest, RequestError> {
    if body.len() > MAX_BODY {
        return Err(RequestError::BodyTooLarge(body.len()));
    }
    let mut values: [Option<String>; KNOWN.len()] = Default::default();
    for (key, value) in url::form_urlencoded::parse(body) {
        let Some(slot) = KNOWN.iter().position(|known| *known == key) else { continue };
        if values[slot].is_some() {
            return Err(RequestError::Repeated(key.into_owned()));
        }
        values[slot] = Some(value.into_owned());
    }
    let [mode, callback, topic, lease_seconds, secret] = values;
    let mode = match mode.as_deref() {
        Some("subscribe") => Mode::Subscribe,
        Some("unsubscribe") => Mode::Unsubscribe,
        Some("publish") => return Err(RequestError::Publish),
        Some(other) => return Err(RequestError::Mode(other.to_owned())),
        None => return Err(RequestError::NoMode),
    };
    let callback = parse_callback(callback.as_deref().unwrap_or_default())?;
    let topic = match topic {
        None => return Err(RequestError::NoTopic),
        Some(topic) if topic.is_empty() => return Err(RequestError::EmptyTopic),
        Some(topic) if topic.len() > MAX_URL => return Err(RequestError::TopicTooLong(topic.len())),
        Some(topic) => topic,
    };
    let lease_seconds = match lease_seconds.as_deref() {
        None | Some("") => None,
        Some(digits) if digits.bytes().all(|b| b.is_ascii_digit()) => {
            // Only digits: too many of them is a long lease, which the policy shortens anyway.
            Some(digits.parse().unwrap_or(u64::MAX))
        }
        Some(other) => return Err(RequestError::Lease(other.to_owned())),
    };
    let secret = match secret {
        None => None,
        Some(secret) if secret.is_empty() => return Err(RequestError::EmptySecret),
        Some(secret) if secret.len() > MAX_SECRET => return Err(RequestError::SecretTooLong(secret.len())),
        Some(secret) => Some(secret),
    };
    Ok(HubRequest { mode, callback, topic, lease_seconds, secret })
}

/// `hub.callback` as a URL the hub may call (whether its address is one is
/// [`super::callback::resolve`]'s question, asked when calling).
fn parse_callback(raw: &str) -> Result<Url, RequestError> {
    if raw.is_empty() {
        return Err(RequestError::NoCallback);
    }
    if raw.len() > MAX_URL {
        return Err(RequestError::CallbackTooLong(raw.len()));
    }
    let callback = || raw.to_owned();
    let url = Url::parse(raw).map_err(|reason| RequestError::CallbackNotUrl { callback: callback(), reason })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RequestError::CallbackScheme { callback: callback(), scheme: url.scheme().to_owned() });
    }
    if url.fragment().is_some() {
        return Err(RequestError::CallbackFragment(callback()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RequestError::CallbackCredentials(callback()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "hub.mode=subscribe&hub.callback=https%3A%2F%2Freader.example%2Fcb%3Fid%3D7\
                        &hub.topic=https%3A%2F%2Fblog.example%2Ffeed.xml";

    fn refused(body: &str) -> String {
        parse(body.as_bytes()).expect_err(body).to_string()
    }

    #[test]
    fn a_subscription_is_read() {
        let request = parse(format!("{GOOD}&hub.lease_seconds=3600&hub.secret=s3cr%C3%A9t").as_bytes()).unwrap();
        assert_eq!(
            request,
            HubRequest {
                mode: Mode::Subscribe,
                callback: Url::parse("https://reader.example/cb?id=7").unwrap(),
                topic: "https://blog.example/feed.xml".into(),
                lease_seconds: Some(3600),
                secret: Some("s3crét".into()),
            }
        );
        let bare = parse(GOOD.as_bytes()).unwrap();
        assert_eq!((bare.lease_seconds, bare.secret), (None, None));
    }

    #[test]
    fn unsubscribe_is_a_mode_and_publish_is_refused_with_the_reason() {
        let body = GOOD.replace("=subscribe", "=unsubscribe");
        assert_eq!(parse(body.as_bytes()).unwrap().mode, Mode::Unsubscribe);
        let publish = refused("hub.mode=publish&hub.url=https%3A%2F%2Fblog.example%2Ffeed.xml");
        assert_eq!(publish, "this hub distributes the site's own feeds when they change; it takes no publish pings");
        assert_eq!(parse(b"hub.mode=publish"), Err(RequestError::Publish));
        assert_eq!(parse(b"hub.mode=Subscribe"), Err(RequestError::Mode("Subscribe".into())));
        assert!(refused(&GOOD.replace("=subscribe", "=Subscribe")).contains("send hub.mode=subscribe"));
        assert!(refused(&GOOD.replace("hub.mode=subscribe&", "")).starts_with("hub.mode is missing"));
    }

    #[test]
    fn the_callback_is_an_absolute_http_url_without_fragment_or_credentials() {
        let with = |callback: &str| GOOD.replace("https%3A%2F%2Freader.example%2Fcb%3Fid%3D7", callback);
        assert_eq!(parse(with("http://reader.example:8080/cb").as_bytes()).unwrap().callback.port(), Some(8080));
        assert!(refused(&with("")).starts_with("hub.callback is missing"));
        assert!(refused(&with("%2Fcb")).contains("is not a URL"));
        assert!(refused(&with("ftp://reader.example/cb")).contains("is a ftp: URL"));
        assert!(refused(&with("javascript:alert(1)")).contains("is a javascript: URL"));
        assert!(refused(&with("https://reader.example/cb%23top")).contains("fragment"));
        assert!(refused(&with("https://me:pw%40reader.example/cb")).contains("user name or password"));
        assert!(refused(&with("https://me%40reader.example/cb")).contains("user name or password"));
        assert!(refused(&GOOD.replace("hub.callback=", "hub.kallback=")).starts_with("hub.callback is missing"));
    }

    #[test]
    fn urls_are_bounded() {
        let long = format!("https://reader.example/{}", "a".repeat(MAX_URL));
        let at_limit = &long[..MAX_URL];
        let body = GOOD.replace("https%3A%2F%2Freader.example%2Fcb%3Fid%3D7", at_limit);
        assert_eq!(parse(body.as_bytes()).unwrap().callback.as_str(), at_limit);
        let body = GOOD.replace("https%3A%2F%2Freader.example%2Fcb%3Fid%3D7", &long[..MAX_URL + 1]);
        assert!(refused(&body).contains("at most 2048"));
        let topic = GOOD.replace("https%3A%2F%2Fblog.example%2Ffeed.xml", &long[..MAX_URL + 1]);
        assert!(refused(&topic).starts_with("hub.topic has 2049 bytes"));
    }

    #[test]
    fn the_topic_is_required() {
        let without = GOOD.split('&').filter(|p| !p.starts_with("hub.topic")).collect::<Vec<_>>().join("&");
        assert!(refused(&without).starts_with("hub.topic is missing"));
        assert!(refused(&format!("{without}&hub.topic=")).starts_with("hub.topic is empty"));
    }

    #[test]
    fn the_lease_is_a_decimal_number_of_seconds() {
        let lease = |value: &str| parse(format!("{GOOD}&hub.lease_seconds={value}").as_bytes());
        assert_eq!(lease("0").unwrap().lease_seconds, Some(0));
        assert_eq!(lease("").unwrap().lease_seconds, None);
        assert_eq!(lease("99999999999999999999999").unwrap().lease_seconds, Some(u64::MAX));
        for bad in ["-1", "%2B5", "1.5", "1e6", "%2010", "ten"] {
            assert!(lease(bad).unwrap_err().to_string().contains("send a whole number of seconds"), "{bad}");
        }
    }

    #[test]
    fn the_secret_is_1_to_199_bytes() {
        let secret = |value: &str| parse(format!("{GOOD}&hub.secret={value}").as_bytes());
        assert_eq!(secret(&"s".repeat(199)).unwrap().secret.unwrap().len(), 199);
        assert!(secret(&"s".repeat(200)).unwrap_err().to_string().contains("less than 200"));
        // é is two bytes: 100 of them are 200 bytes.
        assert!(secret(&"%C3%A9".repeat(100)).unwrap_err().to_string().starts_with("hub.secret has 200 bytes"));
        assert!(secret("").unwrap_err().to_string().starts_with("hub.secret is empty"));
    }

    #[test]
    fn a_repeated_hub_parameter_is_refused_and_unknown_ones_are_ignored() {
        for key in KNOWN {
            let body = format!("{GOOD}&hub.lease_seconds=60&hub.secret=x&{key}=again");
            assert!(refused(&body).starts_with(&format!("{key} is given more than once")), "{key}");
        }
        let extra = format!("{GOOD}&utm_source=a&utm_source=b&hub.verify=sync");
        assert_eq!(parse(extra.as_bytes()).unwrap(), parse(GOOD.as_bytes()).unwrap());
    }

    #[test]
    fn the_body_is_bounded() {
        let padded = format!("{GOOD}&pad={}", "x".repeat(MAX_BODY - GOOD.len() - 5));
        assert_eq!(padded.len(), MAX_BODY);
        assert!(parse(padded.as_bytes()).is_ok());
        let over = format!("{padded}x");
        assert!(refused(&over).contains("at most 16384"));
    }

    #[test]
    fn leases_are_granted_within_bounds() {
        let policy = LeasePolicy::DEFAULT;
        assert_eq!(policy.grant(None), 864_000);
        assert_eq!(policy.grant(Some(3600)), 3600);
        assert_eq!(policy.grant(Some(0)), 300);
        assert_eq!(policy.grant(Some(u64::MAX)), 2_592_000);
        let crossed = LeasePolicy { default: 50, min: 100, max: 10 };
        assert_eq!(crossed.grant(None), 10);
    }
}
