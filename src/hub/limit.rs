//! How much of the hub one party gets: the keys its caps count by (an address, a /64, a
//! registrable domain), calls in flight per key ([`KeyedLimit`]) and subscription requests
//! per client ([`RateLimit`]).
//!
//! The registrable domain is an approximation of the public suffix list's "public suffix + 1":
//! the last two labels of a name, or three when the last two are one of [`TWO_LEVEL_SUFFIXES`]
//! (`example.co.uk`, `someone.github.io`). A suffix not listed there counts as one domain
//! for everyone under it, which errs on the side of a lower cap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::{Host, Url};

/// Public suffixes of two labels under which people register names, and hosting suffixes
/// that give each customer a name; the common ones, not the whole public suffix list.
pub const TWO_LEVEL_SUFFIXES: &[&str] = &[
    "ac.uk",
    "co.uk",
    "gov.uk",
    "ltd.uk",
    "me.uk",
    "net.uk",
    "org.uk",
    "plc.uk",
    "sch.uk",
    "com.au",
    "net.au",
    "org.au",
    "edu.au",
    "gov.au",
    "id.au",
    "co.nz",
    "net.nz",
    "org.nz",
    "co.jp",
    "ne.jp",
    "or.jp",
    "ac.jp",
    "go.jp",
    "co.kr",
    "or.kr",
    "com.br",
    "net.br",
    "org.br",
    "com.cn",
    "net.cn",
    "org.cn",
    "com.hk",
    "com.tw",
    "com.sg",
    "co.in",
    "net.in",
    "org.in",
    "co.za",
    "org.za",
    "com.mx",
    "com.ar",
    "com.tr",
    "co.il",
    "com.ua",
    "co.id",
    "com.my",
    "com.ph",
    "com.vn",
    "com.pl",
    "co.at",
    "or.at",
    "com.es",
    "github.io",
    "gitlab.io",
    "netlify.app",
    "vercel.app",
    "pages.dev",
    "workers.dev",
    "herokuapp.com",
    "blogspot.com",
    "appspot.com",
    "azurewebsites.net",
    "cloudfront.net",
    "fly.dev",
    "onrender.com",
    "web.app",
    "firebaseapp.com",
    "glitch.me",
    "repl.co",
    "ngrok.io",
    "ngrok-free.app",
    "duckdns.org",
    "dyndns.org",
    "no-ip.org",
];

/// The key an address is counted under: the IPv4 address itself, an IPv6 address's /64 (one
/// subscriber usually has the whole /64), and an IPv4-mapped IPv6 address as its IPv4.
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

/// The registrable domain of a host name (see the module's note): lower case, no final dot.
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let keep = match labels.len() {
        0..=2 => labels.len(),
        n if TWO_LEVEL_SUFFIXES.contains(&labels[n - 2..].join(".").as_str()) => 3,
        _ => 2,
    };
    labels[labels.len() - keep..].join(".")
}

/// What a callback's host is counted under before it is resolved: its registrable domain, or
/// for an IP literal, [`address_key`].
pub fn host_key(url: &Url) -> String {
    match url.host() {
        Some(Host::Ipv4(ip)) => address_key(ip.into()),
        Some(Host::Ipv6(ip)) => address_key(ip.into()),
        Some(Host::Domain(name)) => registrable_domain(name),
        None => String::new(),
    }
}

/// At most `per_key` holders per key at once (a semaphore per key in use, forgotten when its
/// last holder leaves).
#[derive(Debug)]
pub struct KeyedLimit {
    per_key: usize,
    keys: Mutex<HashMap<String, Arc<Semaphore>>>,
}

/// A place under a [`KeyedLimit`], given back when dropped.
#[derive(Debug)]
pub struct KeyedPermit {
    limit: Arc<KeyedLimit>,
    key: String,
    permit: Option<OwnedSemaphorePermit>,
}

impl KeyedLimit {
    /// A limit of `per_key` (at least one) per key.
    pub fn new(per_key: usize) -> Arc<KeyedLimit> {
        Arc::new(KeyedLimit { per_key: per_key.max(1), keys: Mutex::default() })
    }

    fn semaphore(&self, key: &str) -> Arc<Semaphore> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry(key.to_owned()).or_insert_with(|| Arc::new(Semaphore::new(self.per_key))).clone()
    }

    /// A place for `key` now, if it has fewer than `per_key` holders.
    pub fn try_take(self: &Arc<Self>, key: &str) -> Option<KeyedPermit> {
        let permit = self.semaphore(key).try_acquire_owned().ok();
        let taken = KeyedPermit { limit: self.clone(), key: key.to_owned(), permit };
        taken.permit.is_some().then_some(taken)
    }

    /// A place for `key`, waiting (first come, first served) for one.
    pub async fn take(self: &Arc<Self>, key: &str) -> KeyedPermit {
        let semaphore = self.semaphore(key);
        let mut taken = KeyedPermit { limit: self.clone(), key: key.to_owned(), permit: None };
        // The semaphore is never closed.
        taken.permit = semaphore.acquire_owned().await.ok();
        taken
    }

    /// Keys with a holder or a waiter.
    pub fn keys_in_use(&self) -> usize {
        self.keys.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for KeyedPermit {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut keys = self.limit.keys.lock().unwrap_or_else(|p| p.into_inner());
        // Only the map holds it, and nobody holds a place: forget the key.
        if keys.get(&self.key).is_some_and(|s| Arc::strong_count(s) == 1 && s.available_permits() == self.limit.per_key)
        {
            keys.remove(&self.key);
        }
    }
}

/// Requests per client key ([`address_key`] of its address): a bucket of `burst` tokens,
/// refilled at `per_minute`; a request takes one or is refused.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    burst: u32,
    max_clients: usize,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

/// Most clients a [`RateLimit`] remembers: past it, the full buckets are forgotten, and if
/// that is not enough, all of them (memory stays bounded when a flood comes from more /64s
/// than this; the hub's verification pools still bound what the flood can start).
pub const MAX_CLIENTS: usize = 100_000;

impl RateLimit {
    /// `per_minute` requests a minute per client, `per_minute` at once; 0 refuses nothing.
    pub fn new(per_minute: u32) -> RateLimit {
        RateLimit::remembering(per_minute, MAX_CLIENTS)
    }

    /// [`RateLimit::new`] remembering at most `max_clients` clients.
    pub fn remembering(per_minute: u32, max_clients: usize) -> RateLimit {
        RateLimit { per_minute, burst: per_minute, max_clients: max_clients.max(1), buckets: Mutex::default() }
    }

    /// Whether `client` may make a request at `now`; `Err` says how long until it may.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let burst = f64::from(self.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= self.max_clients {
            buckets.retain(|_, (tokens, at)| *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst);
            if buckets.len() >= self.max_clients {
                buckets.clear();
            }
        }
        let (tokens, at) = buckets.entry(address_key(client)).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_count_as_themselves_and_ipv6_by_its_64() {
        assert_eq!(address_key("93.184.216.34".parse().unwrap()), "93.184.216.34");
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2::ffff".parse().unwrap()), "2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:93.184.216.34".parse().unwrap()), "93.184.216.34");
    }

    #[test]
    fn names_count_under_their_registrable_domain() {
        for (host, domain) in [
            ("example.com", "example.com"),
            ("a.b.c.Example.COM.", "example.com"),
            ("x1.attacker.example", "attacker.example"),
            ("cb.example.co.uk", "example.co.uk"),
            ("deep.cb.example.co.uk", "example.co.uk"),
            ("someone.github.io", "someone.github.io"),
            ("a.someone.github.io", "someone.github.io"),
            // A suffix of three labels is not known: everyone under it counts as one.
            ("bucket.s3.amazonaws.com", "amazonaws.com"),
            ("localhost", "localhost"),
            ("co.uk", "co.uk"),
        ] {
            assert_eq!(registrable_domain(host), domain, "{host}");
        }
        let key = |u: &str| host_key(&Url::parse(u).unwrap());
        assert_eq!(key("http://127.0.0.1:8080/cb"), "127.0.0.1");
        assert_eq!(key("http://[2001:db8::1]/cb"), "2001:db8::/64");
        assert_eq!(key("https://x7.wild.example/cb"), "wild.example");
    }

    #[tokio::test]
    async fn a_keyed_limit_bounds_each_key_and_forgets_unused_keys() {
        let limit = KeyedLimit::new(2);
        let a1 = limit.try_take("a").unwrap();
        let _a2 = limit.try_take("a").unwrap();
        assert!(limit.try_take("a").is_none());
        let b = limit.try_take("b").unwrap();
        assert_eq!(limit.keys_in_use(), 2);
        drop(b);
        assert_eq!(limit.keys_in_use(), 1);
        let waiting = tokio::spawn({
            let limit = limit.clone();
            async move { limit.take("a").await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(a1);
        let a3 = tokio::time::timeout(Duration::from_secs(5), waiting).await.unwrap().unwrap();
        drop((a3, _a2));
        assert_eq!(limit.keys_in_use(), 0);
    }

    #[test]
    fn the_rate_limit_refills_per_client() {
        let limit = RateLimit::new(3);
        let (one, other) = ("198.51.100.1".parse().unwrap(), "198.51.100.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check(one, start), Ok(()));
        }
        let wait = limit.check(one, start).unwrap_err();
        assert!(wait > Duration::from_secs(19) && wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(limit.check(other, start), Ok(()));
        assert_eq!(limit.check(one, start + Duration::from_secs(20)), Ok(()));
        assert!(limit.check(one, start + Duration::from_secs(21)).is_err());
        assert_eq!(RateLimit::new(0).check(one, start), Ok(()));
    }

    #[test]
    fn the_rate_limit_remembers_a_bounded_number_of_clients() {
        let limit = RateLimit::remembering(1, 100);
        let start = Instant::now();
        for i in 0..1000u32 {
            let client = IpAddr::from(std::net::Ipv6Addr::from(u128::from(i) << 64));
            assert_eq!(limit.check(client, start), Ok(()), "{client}");
            assert!(limit.buckets.lock().unwrap().len() <= 100);
        }
    }
}
