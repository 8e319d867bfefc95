//! The schema: numbered migrations, applied in order, each in its own transaction with its
//! record in `schema_migrations`, so that a failed one leaves the database as it was.
//! Replicas starting together take turns: on PostgreSQL each transaction first takes an
//! advisory lock (released at its end), on SQLite `BEGIN IMMEDIATE` is the lock.

use super::{Db, DbError};

/// The schema, one migration per step; never edit a released one, add the next.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
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

/// The advisory lock replicas migrate under (any number; the same in every release).
const LOCK: i64 = 7_151_300_013;

/// Applies the migrations not yet applied.
pub(super) async fn migrate(db: &Db) -> Result<(), DbError> {
    apply(db, MIGRATIONS).await
}

/// Applies those of `migrations` not yet applied, in order.
pub(super) async fn apply(db: &Db, migrations: &'static [(i64, &'static str)]) -> Result<(), DbError> {
    let done = db
        .transaction(|tx| {
            Box::pin(async move {
                if tx.is_postgres() {
                    tx.batch(&format!("SELECT pg_advisory_xact_lock({LOCK})")).await?;
                }
                tx.batch(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                )
                .await?;
                let rows = tx.query("SELECT version FROM schema_migrations", vec![]).await?;
                Ok(rows.iter().map(|row| row[0].int()).collect::<Vec<i64>>())
            })
        })
        .await?;
    for &(version, sql) in migrations {
        if done.contains(&version) {
            continue;
        }
        let applied = db
            .transaction(move |tx| {
                Box::pin(async move {
                    if tx.is_postgres() {
                        tx.batch(&format!("SELECT pg_advisory_xact_lock({LOCK})")).await?;
                    }
                    // Another replica may have applied it while this one waited for the lock.
                    if !tx
                        .query("SELECT 1 FROM schema_migrations WHERE version = ?", vec![version.into()])
                        .await?
                        .is_empty()
                    {
                        return Ok(false);
                    }
                    tx.batch(sql).await?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        vec![version.into(), chrono::Utc::now().timestamp().into()],
                    )
                    .await?;
                    Ok(true)
                })
            })
            .await
            .map_err(|e| match e {
                // Not reached, or busy: that is what to fix, not the migration.
                DbError::Connection(_) | DbError::Tls(_) | DbError::Busy(_) => e,
                other => DbError::Migration(format!("{}: migration {version} failed: {other}", db.description)),
            })?;
        if applied {
            tracing::info!(database = %db.description, version, "database schema migrated");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_go_up_by_one() {
        for (i, (version, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version, i as i64 + 1);
        }
    }
}
