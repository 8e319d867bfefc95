//! The built-in hub's state: subscriptions (who gets which feed, until when) and delivery
//! claims (which replica delivers a feed version to a callback).

use std::collections::BTreeMap;

use super::{Db, DbError, Value};

/// How long a replica's claim on a delivery keeps the others from making it, in seconds.
pub const CLAIM_SECS: i64 = 120;

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

impl Db {
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
}
