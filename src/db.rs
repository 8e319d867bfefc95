//! The service's own state: the built-in hub's subscriptions and the subscriber counts, in
//! SQLite (a file, the default) or PostgreSQL (`postgres://…`, shared by replicas).
//!
//! Every query is written once, with `?` placeholders and only `BIGINT` and `TEXT` values,
//! in the SQL both engines take (`INSERT … ON CONFLICT … DO UPDATE`); the two adapters at the
//! bottom only bind values and read rows. The schema is a list of numbered migrations,
//! applied in order, each in its own transaction, and recorded in `schema_migrations`.
//!
//! Why rusqlite and tokio-postgres rather than one crate for both (sqlx): each is the
//! maintained standard driver of its engine, neither needs a macro or a live database to
//! compile, and the two adapters together are shorter than the feature flags and `Any`
//! driver rules sqlx would need. SQLite calls are short (WAL, no sync per commit) and run
//! under one connection's lock on the calling task; PostgreSQL gets one connection, opened
//! again when it breaks. Nothing here is on a request's path: counts are written in batches.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;

/// A value bound to a query or read from a row: the two types the schema uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A `BIGINT`.
    Int(i64),
    /// A `TEXT`.
    Text(String),
}

impl Value {
    fn int(&self) -> i64 {
        match self {
            Value::Int(n) => *n,
            Value::Text(t) => t.parse().unwrap_or(0),
        }
    }

    fn text(self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Text(t) => t,
        }
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Int(n)
    }
}

impl From<&str> for Value {
    fn from(t: &str) -> Value {
        Value::Text(t.to_owned())
    }
}

impl From<String> for Value {
    fn from(t: String) -> Value {
        Value::Text(t)
    }
}

/// What went wrong talking to the database, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DbError {}

/// The schema, one migration per step; never edit a released one, add the next.
const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        "CREATE TABLE hub_subscriptions (
        topic TEXT NOT NULL,
        callback TEXT NOT NULL,
        callback_host TEXT NOT NULL,
        secret TEXT NOT NULL,
        lease_seconds BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (topic, callback)
    );
    CREATE INDEX hub_subscriptions_host ON hub_subscriptions (callback_host);
    CREATE TABLE reported_subscribers (
        feed TEXT NOT NULL,
        day TEXT NOT NULL,
        aggregator TEXT NOT NULL,
        feed_id TEXT NOT NULL,
        subscribers BIGINT NOT NULL,
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (feed, day, aggregator, feed_id)
    );
    CREATE TABLE pollers (
        feed TEXT NOT NULL,
        day TEXT NOT NULL,
        poller TEXT NOT NULL,
        PRIMARY KEY (feed, day, poller)
    );
    CREATE TABLE daily (
        feed TEXT NOT NULL,
        day TEXT NOT NULL,
        pollers BIGINT NOT NULL,
        websub BIGINT NOT NULL,
        PRIMARY KEY (feed, day)
    );
    CREATE TABLE salts (
        day TEXT PRIMARY KEY,
        salt TEXT NOT NULL
    )",
    ),
    (
        2,
        "CREATE TABLE hub_deliveries (
        topic TEXT NOT NULL,
        callback TEXT NOT NULL,
        etag TEXT NOT NULL,
        claimed_at BIGINT NOT NULL,
        PRIMARY KEY (topic, callback, etag)
    )",
    ),
    (
        3,
        // What the hub's caps count: the address a callback resolved to (`hub::limit::address_key`)
        // and its registrable domain. Older rows count under their host name, at no address.
        "ALTER TABLE hub_subscriptions ADD COLUMN callback_address TEXT NOT NULL DEFAULT '';
    ALTER TABLE hub_subscriptions ADD COLUMN callback_domain TEXT NOT NULL DEFAULT '';
    UPDATE hub_subscriptions SET callback_domain = callback_host;
    CREATE INDEX hub_subscriptions_address ON hub_subscriptions (callback_address);
    CREATE INDEX hub_subscriptions_domain ON hub_subscriptions (callback_domain)",
    ),
    (
        4,
        // The pollers' per-address cap: a salted hash of the address beside each poller's.
        "ALTER TABLE pollers ADD COLUMN address TEXT NOT NULL DEFAULT '';
    CREATE INDEX pollers_address ON pollers (feed, day, address)",
    ),
];

/// How long a replica's claim on a delivery keeps the others from making it, in seconds.
pub const CLAIM_SECS: i64 = 120;

/// Feed ids kept per feed, day and aggregator (an aggregator that polls one feed under
/// several ids of its own has a few; more is someone making them up).
pub const MAX_FEED_IDS: usize = 20;

/// Distinct pollers counted per feed, day and address (an IPv6 client: its /64): a household
/// or an office has a few readers; more is one client making up User-Agents.
pub const MAX_POLLERS_PER_ADDRESS: i64 = 16;

/// Distinct pollers counted per feed and day at most, which bounds the table's rows.
pub const MAX_POLLERS_PER_FEED: i64 = 50_000;

/// How many days of counts are kept.
pub const KEEP_DAYS: i64 = 400;

/// One hub subscription: who gets which feed, until when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The feed's absolute URL.
    pub topic: String,
    /// Where the feed is POSTed.
    pub callback: String,
    /// The callback's host name (or IP literal), as in its URL.
    pub callback_host: String,
    /// The address it resolved to when verified, as `hub::limit::address_key` writes it (an
    /// IPv6 address's /64), for the per-address cap.
    pub callback_address: String,
    /// The callback host's registrable domain (`hub::limit::host_key`), for the per-domain cap.
    pub callback_domain: String,
    /// The subscriber's `hub.secret` (empty: deliveries are not signed).
    pub secret: String,
    /// The lease granted, in seconds.
    pub lease_seconds: i64,
    /// When the lease ends (Unix seconds).
    pub expires_at: i64,
    /// When it was first verified (Unix seconds).
    pub created_at: i64,
}

/// A day's counts to add, gathered in memory between two writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountBatch {
    /// (feed, day, aggregator, aggregator's feed id or "") → (the largest count announced,
    /// when it was last announced).
    pub reported: BTreeMap<(String, NaiveDate, String, String), (i64, i64)>,
    /// (feed, day, salted hash of a poller, salted hash of its address).
    pub pollers: Vec<(String, NaiveDate, String, String)>,
}

impl CountBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.reported.is_empty() && self.pollers.is_empty()
    }
}

/// A feed's figures for one day, as stored.
pub use crate::counts::report::DayRow as DayCounts;

/// The database: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Db {
    backend: Arc<Backend>,
    /// Where it is, without a password, for messages.
    pub description: String,
}

enum Backend {
    Sqlite(Mutex<rusqlite::Connection>),
    Postgres(tokio::sync::Mutex<Option<tokio_postgres::Client>>, String),
}

impl Db {
    /// Opens (creating if needed) the database `spec` names, `postgres://…` or
    /// `postgresql://…` for PostgreSQL, anything else a SQLite file, and brings its schema up
    /// to date.
    pub async fn open(spec: &str) -> Result<Db, DbError> {
        let db = if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let description = redact(spec);
            let client = pg_connect(spec, &description).await?;
            Db {
                backend: Arc::new(Backend::Postgres(tokio::sync::Mutex::new(Some(client)), spec.to_owned())),
                description,
            }
        } else {
            let path = std::path::PathBuf::from(spec);
            let description = path.display().to_string();
            let opened = description.clone();
            let connection = tokio::task::spawn_blocking(move || open_sqlite(&path, &opened))
                .await
                .map_err(|e| DbError(format!("{description}: {e}")))??;
            Db { backend: Arc::new(Backend::Sqlite(Mutex::new(connection))), description }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(*self.backend, Backend::Postgres(..))
    }

    /// Applies the migrations not yet applied; replicas starting together take turns.
    async fn migrate(&self) -> Result<(), DbError> {
        self.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        if self.is_postgres() {
            // One replica migrates at a time; the lock goes with the session.
            self.batch("SELECT pg_advisory_lock(7151300013)").await?;
        }
        let outcome = async {
            let done = self.query("SELECT version FROM schema_migrations", vec![]).await?;
            let done: Vec<i64> = done.iter().map(|row| row[0].int()).collect();
            for (version, sql) in MIGRATIONS {
                if done.contains(version) {
                    continue;
                }
                let record = format!(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ({version}, {})",
                    chrono::Utc::now().timestamp()
                );
                self.batch(&format!("BEGIN; {sql}; {record}; COMMIT"))
                    .await
                    .map_err(|e| DbError(format!("{}: migration {version} failed: {e}", self.description)))?;
                tracing::info!(database = %self.description, version, "database schema migrated");
            }
            Ok(())
        }
        .await;
        if self.is_postgres() {
            self.batch("SELECT pg_advisory_unlock(7151300013)").await?;
        }
        outcome
    }

    /// Adds or renews a subscription (one per topic and callback).
    pub async fn put_subscription(&self, s: &Subscription) -> Result<(), DbError> {
        self.execute(
            "INSERT INTO hub_subscriptions (topic, callback, callback_host, callback_address, callback_domain,
                secret, lease_seconds, expires_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret,
                lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at,
                callback_address = excluded.callback_address, callback_domain = excluded.callback_domain",
            vec![
                s.topic.as_str().into(),
                s.callback.as_str().into(),
                s.callback_host.as_str().into(),
                s.callback_address.as_str().into(),
                s.callback_domain.as_str().into(),
                s.secret.as_str().into(),
                s.lease_seconds.into(),
                s.expires_at.into(),
                s.created_at.into(),
            ],
        )
        .await
        .map(drop)
    }

    /// Removes a subscription; whether there was one.
    pub async fn delete_subscription(&self, topic: &str, callback: &str) -> Result<bool, DbError> {
        let n = self
            .execute(
                "DELETE FROM hub_subscriptions WHERE topic = ? AND callback = ?",
                vec![topic.into(), callback.into()],
            )
            .await?;
        Ok(n > 0)
    }

    /// The subscriptions to `topic` whose lease runs past `now`, oldest first.
    pub async fn subscriptions(&self, topic: &str, now: i64) -> Result<Vec<Subscription>, DbError> {
        let rows = self
            .query(
                "SELECT topic, callback, callback_host, callback_address, callback_domain, secret, lease_seconds,
                    expires_at, created_at
                 FROM hub_subscriptions WHERE topic = ? AND expires_at > ? ORDER BY created_at, callback",
                vec![topic.into(), now.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let mut next = || row.next().unwrap_or(Value::Int(0));
                Subscription {
                    topic: next().text(),
                    callback: next().text(),
                    callback_host: next().text(),
                    callback_address: next().text(),
                    callback_domain: next().text(),
                    secret: next().text(),
                    lease_seconds: next().int(),
                    expires_at: next().int(),
                    created_at: next().int(),
                }
            })
            .collect())
    }

    /// Whether `callback` has a live subscription to `topic` (one lookup by the primary key).
    pub async fn is_subscribed(&self, topic: &str, callback: &str, now: i64) -> Result<bool, DbError> {
        let rows = self
            .query(
                "SELECT 1 FROM hub_subscriptions WHERE topic = ? AND callback = ? AND expires_at > ?",
                vec![topic.into(), callback.into(), now.into()],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// How many live subscriptions have callbacks at `address` (an address key).
    pub async fn subscriptions_at_address(&self, address: &str, now: i64) -> Result<u64, DbError> {
        self.count("SELECT COUNT(*) FROM hub_subscriptions WHERE callback_address = ? AND expires_at > ?", address, now)
            .await
    }

    /// How many live subscriptions have callbacks under the registrable domain `domain`.
    pub async fn subscriptions_in_domain(&self, domain: &str, now: i64) -> Result<u64, DbError> {
        self.count("SELECT COUNT(*) FROM hub_subscriptions WHERE callback_domain = ? AND expires_at > ?", domain, now)
            .await
    }

    /// How many live subscriptions the hub keeps, all callbacks together.
    pub async fn live_subscriptions(&self, now: i64) -> Result<u64, DbError> {
        let rows = self.query("SELECT COUNT(*) FROM hub_subscriptions WHERE expires_at > ?", vec![now.into()]).await?;
        Ok(rows.first().map_or(0, |row| row[0].int().max(0) as u64))
    }

    async fn count(&self, sql: &str, key: &str, now: i64) -> Result<u64, DbError> {
        let rows = self.query(sql, vec![key.into(), now.into()]).await?;
        Ok(rows.first().map_or(0, |row| row[0].int().max(0) as u64))
    }

    /// Live subscriptions per topic.
    pub async fn subscription_counts(&self, now: i64) -> Result<BTreeMap<String, u64>, DbError> {
        let rows = self
            .query(
                "SELECT topic, COUNT(*) FROM hub_subscriptions WHERE expires_at > ? GROUP BY topic",
                vec![now.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut row = row.into_iter();
                let topic = row.next().map(Value::text).unwrap_or_default();
                (topic, row.next().map_or(0, |n| n.int().max(0) as u64))
            })
            .collect())
    }

    /// Deletes subscriptions whose lease ended by `now`, and delivery claims older than a
    /// day; how many subscriptions.
    pub async fn expire_subscriptions(&self, now: i64) -> Result<u64, DbError> {
        self.execute("DELETE FROM hub_deliveries WHERE claimed_at < ?", vec![(now - 86_400).into()]).await?;
        self.execute("DELETE FROM hub_subscriptions WHERE expires_at <= ?", vec![now.into()]).await
    }

    /// Claims the delivery of the feed version `etag` of `topic` to `callback`: true for the
    /// first to ask (this process delivers it), false when another replica did within the
    /// last [`CLAIM_SECS`] (replicas see an edit within seconds of each other; a version
    /// that comes back later, after an edit is undone, is delivered again).
    pub async fn claim_delivery(&self, topic: &str, callback: &str, etag: &str, now: i64) -> Result<bool, DbError> {
        let n = self
            .execute(
                "INSERT INTO hub_deliveries (topic, callback, etag, claimed_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (topic, callback, etag) DO UPDATE SET claimed_at = excluded.claimed_at
                 WHERE hub_deliveries.claimed_at < ?",
                vec![topic.into(), callback.into(), etag.into(), now.into(), (now - CLAIM_SECS).into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// The salt of `day`'s poller hashes (made and stored on first use, so that replicas and
    /// restarts agree), and every older salt deleted: once its day is over no hash can be
    /// tied to an address again.
    pub async fn salt(&self, day: NaiveDate, fresh: &str) -> Result<String, DbError> {
        let day = day.to_string();
        self.execute("DELETE FROM salts WHERE day < ?", vec![day.as_str().into()]).await?;
        self.execute(
            "INSERT INTO salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
            vec![day.as_str().into(), fresh.into()],
        )
        .await?;
        let rows = self.query("SELECT salt FROM salts WHERE day = ?", vec![day.into()]).await?;
        Ok(rows.into_iter().next().and_then(|row| row.into_iter().next()).map(Value::text).unwrap_or_default())
    }

    /// Writes a batch of counts, then each touched day's totals: distinct pollers, and the
    /// hub's live subscriptions per feed path (`websub`, topic paths) for `today`.
    pub async fn add_counts(
        &self,
        batch: &CountBatch,
        websub: &BTreeMap<String, u64>,
        today: NaiveDate,
    ) -> Result<(), DbError> {
        self.batch("BEGIN").await?;
        let outcome = self.add_counts_in_transaction(batch, websub, today).await;
        self.batch(if outcome.is_ok() { "COMMIT" } else { "ROLLBACK" }).await?;
        outcome
    }

    async fn add_counts_in_transaction(
        &self,
        batch: &CountBatch,
        websub: &BTreeMap<String, u64>,
        today: NaiveDate,
    ) -> Result<(), DbError> {
        for ((feed, day, aggregator, feed_id), (subscribers, seen)) in &batch.reported {
            // Anyone can claim to be an aggregator with a feed id of their choosing: past
            // MAX_FEED_IDS ids for one feed, day and aggregator, new ids are not kept.
            let known = self
                .query(
                    "SELECT feed_id FROM reported_subscribers WHERE feed = ? AND day = ? AND aggregator = ?",
                    vec![feed.as_str().into(), day.to_string().into(), aggregator.as_str().into()],
                )
                .await?;
            if known.len() >= MAX_FEED_IDS && !known.iter().any(|row| row[0] == Value::Text(feed_id.clone())) {
                continue;
            }
            // The day's figure is the largest announced: a later, smaller claim (anyone can
            // send one) does not replace it.
            self.execute(
                "INSERT INTO reported_subscribers (feed, day, aggregator, feed_id, subscribers, seen_at)
                 VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (feed, day, aggregator, feed_id) DO UPDATE
                 SET subscribers = excluded.subscribers, seen_at = excluded.seen_at
                 WHERE reported_subscribers.subscribers < excluded.subscribers",
                vec![
                    feed.as_str().into(),
                    day.to_string().into(),
                    aggregator.as_str().into(),
                    feed_id.as_str().into(),
                    (*subscribers).into(),
                    (*seen).into(),
                ],
            )
            .await?;
        }
        let mut touched: std::collections::BTreeSet<(String, NaiveDate)> = std::collections::BTreeSet::new();
        // Rows already stored per (feed, day) and per (feed, day, address), read once a batch.
        let mut per_feed: BTreeMap<(&str, NaiveDate), i64> = BTreeMap::new();
        let mut per_address: BTreeMap<(&str, NaiveDate, &str), i64> = BTreeMap::new();
        for (feed, day, poller, address) in &batch.pollers {
            touched.insert((feed.clone(), *day));
            let day_text = day.to_string();
            let stored = match per_feed.get(&(feed.as_str(), *day)) {
                Some(n) => *n,
                None => {
                    self.count_rows(
                        "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ?",
                        vec![feed.as_str().into(), day_text.as_str().into()],
                    )
                    .await?
                }
            };
            let from_address = match per_address.get(&(feed.as_str(), *day, address.as_str())) {
                Some(n) => *n,
                None => {
                    self.count_rows(
                        "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ? AND address = ?",
                        vec![feed.as_str().into(), day_text.as_str().into(), address.as_str().into()],
                    )
                    .await?
                }
            };
            if stored >= MAX_POLLERS_PER_FEED || from_address >= MAX_POLLERS_PER_ADDRESS {
                per_feed.insert((feed, *day), stored);
                per_address.insert((feed, *day, address), from_address);
                continue;
            }
            let added = self
                .execute(
                    "INSERT INTO pollers (feed, day, poller, address) VALUES (?, ?, ?, ?)
                     ON CONFLICT (feed, day, poller) DO NOTHING",
                    vec![feed.as_str().into(), day_text.into(), poller.as_str().into(), address.as_str().into()],
                )
                .await? as i64;
            per_feed.insert((feed, *day), stored + added);
            per_address.insert((feed, *day, address), from_address + added);
        }
        for feed in websub.keys() {
            touched.insert((feed.clone(), today));
        }
        for (feed, day) in touched {
            let day_text = day.to_string();
            let pollers = self
                .count_rows(
                    "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ?",
                    vec![feed.as_str().into(), day_text.as_str().into()],
                )
                .await?;
            // Hub subscriptions are known for today only; a past day keeps what it had.
            let (websub, keep) = if day == today {
                (websub.get(&feed).copied().unwrap_or(0) as i64, "excluded.websub")
            } else {
                (0, "daily.websub")
            };
            let sql = format!(
                "INSERT INTO daily (feed, day, pollers, websub) VALUES (?, ?, ?, ?)
                 ON CONFLICT (feed, day) DO UPDATE SET pollers = excluded.pollers, websub = {keep}"
            );
            self.execute(&sql, vec![feed.into(), day_text.into(), pollers.into(), websub.into()]).await?;
        }
        // The poller hashes of past days are only needed as a count, which `daily` keeps.
        let yesterday = today.pred_opt().unwrap_or(today).to_string();
        self.execute("DELETE FROM pollers WHERE day < ?", vec![yesterday.into()]).await?;
        let oldest = (today - chrono::Duration::days(KEEP_DAYS)).to_string();
        self.execute("DELETE FROM reported_subscribers WHERE day < ?", vec![oldest.as_str().into()]).await?;
        self.execute("DELETE FROM daily WHERE day < ?", vec![oldest.into()]).await?;
        Ok(())
    }

    /// Every feed's figures for the days from `first` to `last`, by feed then day.
    pub async fn counts(&self, first: NaiveDate, last: NaiveDate) -> Result<Vec<DayCounts>, DbError> {
        let range = || vec![Value::from(first.to_string()), Value::from(last.to_string())];
        let mut days: BTreeMap<(String, String), DayCounts> = BTreeMap::new();
        fn entry(
            days: &mut BTreeMap<(String, String), DayCounts>,
            feed: String,
            day: String,
        ) -> Option<&mut DayCounts> {
            let date = day.parse::<NaiveDate>().ok()?;
            Some(days.entry((feed.clone(), day)).or_insert_with(|| DayCounts {
                feed,
                day: date,
                reported: BTreeMap::new(),
                pollers: 0,
                websub: 0,
            }))
        }
        for row in
            self.query("SELECT feed, day, pollers, websub FROM daily WHERE day >= ? AND day <= ?", range()).await?
        {
            let mut row = row.into_iter();
            let (feed, day) = (row.next().map(Value::text), row.next().map(Value::text));
            let (pollers, websub) = (row.next().map_or(0, |v| v.int()), row.next().map_or(0, |v| v.int()));
            if let (Some(feed), Some(day)) = (feed, day)
                && let Some(counts) = entry(&mut days, feed, day)
            {
                counts.pollers = pollers.max(0) as u64;
                counts.websub = websub.max(0) as u64;
            }
        }
        for row in self
            .query(
                "SELECT feed, day, aggregator, subscribers FROM reported_subscribers WHERE day >= ? AND day <= ?",
                range(),
            )
            .await?
        {
            let mut row = row.into_iter();
            let (feed, day, aggregator) =
                (row.next().map(Value::text), row.next().map(Value::text), row.next().map(Value::text));
            let subscribers = row.next().map_or(0, |v| v.int().max(0) as u64);
            if let (Some(feed), Some(day), Some(aggregator)) = (feed, day, aggregator)
                && let Some(counts) = entry(&mut days, feed, day)
            {
                // However many ids an aggregator names, its figure for a feed and day is
                // at most what one aggregator plausibly has.
                let sum = counts.reported.entry(aggregator).or_default();
                *sum = sum.saturating_add(subscribers).min(crate::counts::agents::MAX_PLAUSIBLE);
            }
        }
        Ok(days.into_values().collect())
    }

    /// The first column of the first row of a `SELECT COUNT(*)`.
    async fn count_rows(&self, sql: &str, values: Vec<Value>) -> Result<i64, DbError> {
        Ok(self.query(sql, values).await?.first().map_or(0, |row| row[0].int()))
    }

    /// Runs statements that take no values (the schema).
    async fn batch(&self, sql: &str) -> Result<(), DbError> {
        match &*self.backend {
            Backend::Sqlite(connection) => {
                let connection = lock(connection);
                connection.execute_batch(sql).map_err(|e| self.error(e))
            }
            Backend::Postgres(..) => {
                let client = self.pg().await?;
                pg_client(&client)?.batch_execute(sql).await.map_err(|e| self.error(e))
            }
        }
    }

    /// Runs one statement; how many rows it changed.
    async fn execute(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        match &*self.backend {
            Backend::Sqlite(connection) => {
                let connection = lock(connection);
                let mut statement = connection.prepare_cached(sql).map_err(|e| self.error(e))?;
                statement
                    .execute(rusqlite::params_from_iter(values.iter().map(sqlite_value)))
                    .map(|n| n as u64)
                    .map_err(|e| self.error(e))
            }
            Backend::Postgres(..) => {
                let client = self.pg().await?;
                let params = pg_params(&values);
                pg_client(&client)?
                    .execute(numbered_placeholders(sql).as_str(), &params)
                    .await
                    .map_err(|e| self.error(e))
            }
        }
    }

    /// Runs one query; its rows.
    async fn query(&self, sql: &str, values: Vec<Value>) -> Result<Vec<Vec<Value>>, DbError> {
        match &*self.backend {
            Backend::Sqlite(connection) => {
                let connection = lock(connection);
                let mut statement = connection.prepare_cached(sql).map_err(|e| self.error(e))?;
                let columns = statement.column_count();
                let mut rows = statement
                    .query(rusqlite::params_from_iter(values.iter().map(sqlite_value)))
                    .map_err(|e| self.error(e))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(|e| self.error(e))? {
                    let mut values = Vec::with_capacity(columns);
                    for i in 0..columns {
                        values.push(match row.get_ref(i).map_err(|e| self.error(e))? {
                            rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                            rusqlite::types::ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                            rusqlite::types::ValueRef::Real(r) => Value::Int(r as i64),
                            rusqlite::types::ValueRef::Null | rusqlite::types::ValueRef::Blob(_) => {
                                Value::Text(String::new())
                            }
                        });
                    }
                    out.push(values);
                }
                Ok(out)
            }
            Backend::Postgres(..) => {
                let client = self.pg().await?;
                let params = pg_params(&values);
                let rows = pg_client(&client)?
                    .query(numbered_placeholders(sql).as_str(), &params)
                    .await
                    .map_err(|e| self.error(e))?;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| {
                                let value = if *row.columns()[i].type_() == tokio_postgres::types::Type::INT8 {
                                    row.try_get::<_, Option<i64>>(i).map(|n| Value::Int(n.unwrap_or(0)))
                                } else if *row.columns()[i].type_() == tokio_postgres::types::Type::INT4 {
                                    row.try_get::<_, Option<i32>>(i).map(|n| Value::Int(i64::from(n.unwrap_or(0))))
                                } else {
                                    row.try_get::<_, Option<String>>(i).map(|t| Value::Text(t.unwrap_or_default()))
                                };
                                value.map_err(|e| self.error(e))
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// The PostgreSQL connection, opened again if it had closed (a restarted server).
    async fn pg(&self) -> Result<tokio::sync::MutexGuard<'_, Option<tokio_postgres::Client>>, DbError> {
        let Backend::Postgres(slot, spec) = &*self.backend else {
            return Err(DbError(format!("{}: not a PostgreSQL database", self.description)));
        };
        let mut slot = slot.lock().await;
        if slot.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
            *slot = Some(pg_connect(spec, &self.description).await?);
        }
        Ok(slot)
    }

    fn error(&self, e: impl std::fmt::Display) -> DbError {
        DbError(format!("{}: {e}", self.description))
    }
}

fn pg_client(slot: &Option<tokio_postgres::Client>) -> Result<&tokio_postgres::Client, DbError> {
    slot.as_ref().ok_or_else(|| DbError("PostgreSQL: not connected".into()))
}

fn lock(connection: &Mutex<rusqlite::Connection>) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
    connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn open_sqlite(path: &std::path::Path, description: &str) -> Result<rusqlite::Connection, DbError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(DbError(format!(
            "{description}: the folder {} does not exist: create it, or point --database elsewhere",
            parent.display()
        )));
    }
    let connection = rusqlite::Connection::open(path).map_err(|e| {
        DbError(format!(
            "{description}: cannot open the database: {e}; check the path and its permissions, or point \
             --database (TIDINGS_DATABASE) at a writable place"
        ))
    })?;
    // WAL: readers (`tidings stats`) never wait for the server's writes; a busy timeout for
    // the rare moment two processes write.
    connection
        .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")
        .map_err(|e| DbError(format!("{description}: {e}")))?;
    Ok(connection)
}

async fn pg_connect(spec: &str, description: &str) -> Result<tokio_postgres::Client, DbError> {
    let connecting = tokio_postgres::connect(spec, tokio_postgres::NoTls);
    let (client, connection) = tokio::time::timeout(std::time::Duration::from_secs(10), connecting)
        .await
        .map_err(|_| DbError(format!("{description}: no answer within 10 s; is PostgreSQL running there?")))?
        .map_err(|e| DbError(format!("{description}: cannot connect: {e}")))?;
    let description = description.to_owned();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(database = %description, error = %e, "database connection closed");
        }
    });
    Ok(client)
}

fn sqlite_value(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Int(n) => rusqlite::types::Value::Integer(*n),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}

fn pg_params(values: &[Value]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| match v {
            Value::Int(n) => n as &(dyn tokio_postgres::types::ToSql + Sync),
            Value::Text(t) => t as &(dyn tokio_postgres::types::ToSql + Sync),
        })
        .collect()
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, … (the queries here have no `?` in literals).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A connection string without its password.
fn redact(spec: &str) -> String {
    match url::Url::parse(spec) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => spec.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn subscription(topic: &str, callback: &str, expires_at: i64) -> Subscription {
        Subscription {
            topic: topic.into(),
            callback: callback.into(),
            callback_host: url::Url::parse(callback).unwrap().host_str().unwrap().into(),
            callback_address: "192.0.2.1".into(),
            callback_domain: crate::hub::limit::registrable_domain(
                url::Url::parse(callback).unwrap().host_str().unwrap(),
            ),
            secret: "s".into(),
            lease_seconds: 100,
            expires_at,
            created_at: 1,
        }
    }

    /// The same checks for either engine.
    pub(crate) async fn exercise(db: &Db) {
        let topic = "https://x.example/feed.atom";
        db.put_subscription(&subscription(topic, "https://a.example/cb", 1000)).await.unwrap();
        db.put_subscription(&subscription(topic, "https://b.example/cb", 50)).await.unwrap();
        // Renewal replaces the lease.
        db.put_subscription(&subscription(topic, "https://a.example/cb", 2000)).await.unwrap();
        let live = db.subscriptions(topic, 100).await.unwrap();
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].expires_at, 2000);
        assert_eq!(db.subscriptions_in_domain("a.example", 100).await.unwrap(), 1);
        assert_eq!(db.subscriptions_at_address("192.0.2.1", 100).await.unwrap(), 1);
        assert_eq!(db.subscriptions_at_address("192.0.2.2", 100).await.unwrap(), 0);
        assert_eq!(db.live_subscriptions(100).await.unwrap(), 1);
        assert!(db.is_subscribed(topic, "https://a.example/cb", 100).await.unwrap());
        assert!(!db.is_subscribed(topic, "https://b.example/cb", 100).await.unwrap(), "its lease ended");
        assert!(!db.is_subscribed(topic, "https://c.example/cb", 100).await.unwrap());
        assert_eq!(db.subscription_counts(10).await.unwrap().get(topic), Some(&2));
        assert_eq!(db.expire_subscriptions(100).await.unwrap(), 1);
        assert!(db.delete_subscription(topic, "https://a.example/cb").await.unwrap());
        assert!(!db.delete_subscription(topic, "https://a.example/cb").await.unwrap());
        // One delivery per version and callback, whoever asks first.
        let etag = format!("\"{}\"", crate::digest::random_hex(8).unwrap());
        assert!(db.claim_delivery(topic, "https://a.example/cb", &etag, 100).await.unwrap());
        assert!(!db.claim_delivery(topic, "https://a.example/cb", &etag, 101).await.unwrap());
        assert!(db.claim_delivery(topic, "https://b.example/cb", &etag, 101).await.unwrap());
        // The same version again, long after (an undone edit), is delivered again.
        assert!(db.claim_delivery(topic, "https://a.example/cb", &etag, 100 + CLAIM_SECS + 1).await.unwrap());

        let salt = db.salt(day("2026-11-29"), "first").await.unwrap();
        assert_eq!(salt, "first");
        assert_eq!(db.salt(day("2026-11-29"), "second").await.unwrap(), "first");
        assert_eq!(db.salt(day("2026-11-30"), "third").await.unwrap(), "third");

        let mut batch = CountBatch::default();
        batch.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedly".into(), String::new()), (120, 10));
        batch.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedbin".into(), "1".into()), (3, 10));
        batch.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedbin".into(), "2".into()), (4, 10));
        batch.pollers.push(("/feed.atom".into(), day("2026-11-30"), "h1".into(), "a1".into()));
        batch.pollers.push(("/feed.atom".into(), day("2026-11-30"), "h2".into(), "a2".into()));
        let websub = BTreeMap::from([("/feed.atom".to_owned(), 2)]);
        db.add_counts(&batch, &websub, day("2026-11-30")).await.unwrap();
        // The same pollers again and a later, smaller Feedly count change nothing (issue 10:
        // "the latest announcement of the day wins" let anyone cut a feed's count to 1).
        let mut again = CountBatch::default();
        again.pollers.push(("/feed.atom".into(), day("2026-11-30"), "h1".into(), "a1".into()));
        again.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedly".into(), String::new()), (1, 50));
        db.add_counts(&again, &websub, day("2026-11-30")).await.unwrap();
        // Made-up feed ids stop counting past MAX_FEED_IDS.
        let mut flood = CountBatch::default();
        for id in 0..MAX_FEED_IDS + 5 {
            flood
                .reported
                .insert(("/feed.atom".into(), day("2026-11-30"), "feedbin".into(), format!("x{id}")), (1000, 20));
        }
        db.add_counts(&flood, &websub, day("2026-11-30")).await.unwrap();
        let counts = db.counts(day("2026-11-01"), day("2026-11-30")).await.unwrap();
        assert_eq!(counts[0].reported.get("feedbin"), Some(&(7 + 1000 * (MAX_FEED_IDS as u64 - 2))));
        db.batch("DELETE FROM reported_subscribers WHERE feed_id LIKE 'x%'").await.unwrap();
        let counts = db.counts(day("2026-11-01"), day("2026-11-30")).await.unwrap();
        assert_eq!(counts.len(), 1);
        let c = &counts[0];
        assert_eq!((c.pollers, c.websub), (2, 2));
        assert_eq!(c.reported.get("feedly"), Some(&120));
        assert_eq!(c.reported.get("feedbin"), Some(&7));

        // A larger count is the day's figure.
        let mut larger = CountBatch::default();
        larger.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedly".into(), String::new()), (130, 60));
        db.add_counts(&larger, &websub, day("2026-11-30")).await.unwrap();
        assert_eq!(
            db.counts(day("2026-11-30"), day("2026-11-30")).await.unwrap()[0].reported.get("feedly"),
            Some(&130)
        );
        // One aggregator's ids add up to no more than one aggregator plausibly has.
        let mut many = CountBatch::default();
        for id in 0..MAX_FEED_IDS {
            let key = ("/feed.rss".to_owned(), day("2026-11-30"), "newsblur".to_owned(), id.to_string());
            many.reported.insert(key, (crate::counts::agents::MAX_PLAUSIBLE as i64, 60));
        }
        db.add_counts(&many, &websub, day("2026-11-30")).await.unwrap();
        let rss = db.counts(day("2026-11-30"), day("2026-11-30")).await.unwrap();
        let rss = rss.iter().find(|c| c.feed == "/feed.rss").unwrap();
        assert_eq!(rss.reported.get("newsblur"), Some(&crate::counts::agents::MAX_PLAUSIBLE));
        // One address counts as MAX_POLLERS_PER_ADDRESS pollers at most, over several batches.
        for round in 0..3 {
            let mut flood = CountBatch::default();
            for n in 0..MAX_POLLERS_PER_ADDRESS {
                let poller = format!("flood-{round}-{n}");
                flood.pollers.push(("/feed.rss".into(), day("2026-11-30"), poller, "a3".into()));
            }
            db.add_counts(&flood, &websub, day("2026-11-30")).await.unwrap();
        }
        let rss = db.counts(day("2026-11-30"), day("2026-11-30")).await.unwrap();
        let rss = rss.iter().find(|c| c.feed == "/feed.rss").unwrap();
        assert_eq!(rss.pollers, MAX_POLLERS_PER_ADDRESS as u64);
    }

    #[tokio::test]
    async fn sqlite_keeps_subscriptions_and_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tidings.db");
        let db = Db::open(path.to_str().unwrap()).await.unwrap();
        exercise(&db).await;
        drop(db);
        // Opening again migrates nothing and keeps what was written.
        let db = Db::open(path.to_str().unwrap()).await.unwrap();
        assert_eq!(db.counts(day("2026-11-30"), day("2026-11-30")).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn postgres_if_available() {
        let Ok(url) = std::env::var("TIDINGS_TEST_POSTGRES") else {
            eprintln!("SKIPPED: set TIDINGS_TEST_POSTGRES=postgres://… to test PostgreSQL");
            return;
        };
        let db = Db::open(&url).await.unwrap();
        db.batch("DELETE FROM hub_subscriptions; DELETE FROM hub_deliveries; DELETE FROM reported_subscribers; DELETE FROM pollers; DELETE FROM daily; DELETE FROM salts").await.unwrap();
        exercise(&db).await;
    }

    #[tokio::test]
    async fn a_missing_folder_is_explained() {
        let err = Db::open("/nonexistent/folder/tidings.db").await.err().unwrap();
        assert!(err.0.contains("does not exist"), "{err}");
    }

    #[test]
    fn placeholders_are_numbered_and_passwords_hidden() {
        assert_eq!(numbered_placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
        assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
    }
}
