use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::*;

/// What the layer above caps an aggregator's figure at (`counts::agents::MAX_PLAUSIBLE`).
const MOST: u64 = 1_000_000;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn subscription(topic: &str, callback: &str, expires_at: i64) -> Subscription {
    Subscription {
        topic: topic.into(),
        callback: callback.into(),
        callback_host: url::Url::parse(callback).unwrap().host_str().unwrap().into(),
        callback_address: "192.0.2.1".into(),
        callback_domain: url::Url::parse(callback).unwrap().host_str().unwrap().into(),
        secret: "s".into(),
        lease_seconds: 100,
        expires_at,
        created_at: 1,
    }
}

/// The same checks for either engine.
async fn exercise(db: &Db) {
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
        flood.reported.insert(("/feed.atom".into(), day("2026-11-30"), "feedbin".into(), format!("x{id}")), (1000, 20));
    }
    db.add_counts(&flood, &websub, day("2026-11-30")).await.unwrap();
    let counts = db.counts(day("2026-11-01"), day("2026-11-30"), MOST).await.unwrap();
    assert_eq!(counts[0].reported.get("feedbin"), Some(&(7 + 1000 * (MAX_FEED_IDS as u64 - 2))));
    db.batch("DELETE FROM reported_subscribers WHERE feed_id LIKE 'x%'").await.unwrap();
    let counts = db.counts(day("2026-11-01"), day("2026-11-30"), MOST).await.unwrap();
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
        db.counts(day("2026-11-30"), day("2026-11-30"), MOST).await.unwrap()[0].reported.get("feedly"),
        Some(&130)
    );
    // One aggregator's ids add up to no more than one aggregator plausibly has.
    let mut many = CountBatch::default();
    for id in 0..MAX_FEED_IDS {
        let key = ("/feed.rss".to_owned(), day("2026-11-30"), "newsblur".to_owned(), id.to_string());
        many.reported.insert(key, (MOST as i64, 60));
    }
    db.add_counts(&many, &websub, day("2026-11-30")).await.unwrap();
    let rss = db.counts(day("2026-11-30"), day("2026-11-30"), MOST).await.unwrap();
    let rss = rss.iter().find(|c| c.feed == "/feed.rss").unwrap();
    assert_eq!(rss.reported.get("newsblur"), Some(&MOST));
    // One address counts as MAX_POLLERS_PER_ADDRESS pollers at most, over several batches.
    for round in 0..3 {
        let mut flood = CountBatch::default();
        for n in 0..MAX_POLLERS_PER_ADDRESS {
            let poller = format!("flood-{round}-{n}");
            flood.pollers.push(("/feed.rss".into(), day("2026-11-30"), poller, "a3".into()));
        }
        db.add_counts(&flood, &websub, day("2026-11-30")).await.unwrap();
    }
    let rss = db.counts(day("2026-11-30"), day("2026-11-30"), MOST).await.unwrap();
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
    assert_eq!(db.counts(day("2026-11-30"), day("2026-11-30"), MOST).await.unwrap().len(), 2);
}

#[tokio::test]
async fn postgres_if_available() {
    let Some(db) = postgres().await else { return };
    exercise(&db).await;
}

#[tokio::test]
async fn a_missing_folder_is_explained() {
    let err = Db::open("/nonexistent/folder/tidings.db").await.err().unwrap();
    assert!(matches!(err, DbError::Connection(_)) && err.to_string().contains("does not exist"), "{err:?}");
}

#[test]
fn passwords_are_hidden() {
    assert_eq!(redact("postgres://u:pw@h/db"), "postgres://u:***@h/db");
}

/// A PostgreSQL database of the test's own (the schema `name`, made afresh, so that tests
/// running together do not meet), or `None` when `TIDINGS_TEST_POSTGRES` is not set.
async fn postgres_schema(name: &str) -> Option<Db> {
    let url = crate::test_support::postgres()?;
    let admin = Db::open(&url).await.unwrap();
    admin.batch(&format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")).await.unwrap();
    Some(Db::open(&with(&url, &format!("options=-c%20search_path%3D{name}"))).await.unwrap())
}

async fn postgres() -> Option<Db> {
    postgres_schema("tidings_exercise").await
}

/// `url` with one more query parameter.
fn with(url: &str, parameter: &str) -> String {
    format!("{url}{}{parameter}", if url.contains('?') { '&' } else { '?' })
}

fn sqlite(dir: &tempfile::TempDir) -> String {
    dir.path().join("tidings.db").display().to_string()
}

/// Makes every insert into `daily` (the last step of writing counts) fail.
async fn refuse_daily(db: &Db) {
    if db.is_postgres() {
        db.batch(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'daily refused'; END $$ LANGUAGE plpgsql;
             CREATE TRIGGER refuse_daily BEFORE INSERT ON daily FOR EACH ROW EXECUTE FUNCTION refuse()",
        )
        .await
        .unwrap();
    } else {
        db.batch("CREATE TRIGGER refuse_daily BEFORE INSERT ON daily BEGIN SELECT RAISE(ABORT, 'daily refused'); END")
            .await
            .unwrap();
    }
}

/// Issue 26: a counts flush was `BEGIN`, its statements and `COMMIT` sent one by one on the
/// shared connection, so the hub's writes made meanwhile landed inside it: a failed flush
/// rolled them back though each had answered Ok. Now a flush owns the connection.
async fn a_failed_flush_takes_nothing_else_with_it(db: Db, pollers: usize) {
    refuse_daily(&db).await;
    let mut batch = CountBatch::default();
    for n in 0..pollers {
        batch.pollers.push(("/feed.atom".into(), day("2026-11-30"), format!("p{n}"), format!("a{}", n / 10)));
    }
    let flush = tokio::spawn({
        let db = db.clone();
        async move { db.add_counts(&batch, &BTreeMap::new(), day("2026-11-30")).await }
    });
    let topic = "https://x.example/feed.atom";
    let mut written = 0;
    while !flush.is_finished() || written < 10 {
        let callback = format!("https://c{written}.example/cb");
        db.put_subscription(&subscription(topic, &callback, 1000)).await.unwrap();
        written += 1;
    }
    let err = flush.await.unwrap().unwrap_err();
    assert!(matches!(err, DbError::Constraint(_) | DbError::Other(_)), "{err:?}");
    assert!(err.to_string().contains("daily refused"), "{err}");
    assert_eq!(db.live_subscriptions(100).await.unwrap(), written, "every subscription that answered Ok is kept");
    let pollers = db.query("SELECT COUNT(*) FROM pollers", vec![]).await.unwrap();
    assert_eq!(pollers[0][0], Value::Int(0), "the failed flush kept none of its rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_flush_takes_nothing_else_with_it() {
    let dir = tempfile::tempdir().unwrap();
    a_failed_flush_takes_nothing_else_with_it(Db::open(&sqlite(&dir)).await.unwrap(), 20_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failed_flush_takes_nothing_else_with_it() {
    let Some(db) = postgres_schema("tidings_failed_flush").await else { return };
    // Each statement is a round trip here: a smaller flush is long enough.
    a_failed_flush_takes_nothing_else_with_it(db, 2_000).await;
}

/// A transaction commits as a unit, and a failed one leaves nothing.
async fn transactions_commit_or_roll_back_as_a_unit(db: Db) {
    db.transaction(|tx| {
        Box::pin(async move {
            tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-01".into(), "a".into()]).await?;
            tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-02".into(), "b".into()]).await
        })
    })
    .await
    .unwrap();
    let err = db
        .transaction(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-03".into(), "c".into()])
                    .await?;
                // The same day again: the primary key refuses it, and the kind says so.
                tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-01".into(), "d".into()]).await
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Constraint(_)), "{err:?}");
    let days = db.query("SELECT day FROM salts ORDER BY day", vec![]).await.unwrap();
    assert_eq!(days, vec![vec![Value::from("2026-01-01")], vec![Value::from("2026-01-02")]]);
}

#[tokio::test]
async fn sqlite_transactions_commit_or_roll_back_as_a_unit() {
    let dir = tempfile::tempdir().unwrap();
    transactions_commit_or_roll_back_as_a_unit(Db::open(&sqlite(&dir)).await.unwrap()).await;
}

#[tokio::test]
async fn postgres_transactions_commit_or_roll_back_as_a_unit() {
    let Some(db) = postgres_schema("tidings_unit").await else { return };
    transactions_commit_or_roll_back_as_a_unit(db).await;
}

/// Issue 26: the connection was opened again in the middle of a transaction, and the rest
/// of it ran in autocommit. Now a connection that breaks inside one is an error (nothing of
/// the transaction is kept), and the next piece of work connects again.
#[tokio::test]
async fn postgres_a_connection_broken_inside_a_transaction_is_an_error() {
    let Some(db) = postgres_schema("tidings_broken").await else { return };
    let url = crate::test_support::postgres().unwrap();
    let other = Db::open(&url).await.unwrap();
    let err = db
        .transaction(move |tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-01".into(), "a".into()])
                    .await?;
                let pid = tx.query("SELECT pg_backend_pid()", vec![]).await?[0][0].int();
                other.batch(&format!("SELECT pg_terminate_backend({pid})")).await.unwrap();
                tx.execute("INSERT INTO salts (day, salt) VALUES (?, ?)", vec!["2026-01-02".into(), "b".into()]).await
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Connection(_)), "{err:?}");
    assert!(err.is_transient());
    let days = db.query("SELECT day FROM salts", vec![]).await.unwrap();
    assert!(days.is_empty(), "nothing of the broken transaction was kept: {days:?}");
}

/// Issue 26: SQLite ran on the runtime's workers, so a write waiting for another process's
/// lock (up to the 5 s busy timeout) stopped every task on that worker. Now it waits on the
/// database's thread and a one-thread runtime goes on.
#[test]
fn sqlite_waits_for_a_lock_off_the_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = sqlite(&dir);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = Db::open(&path).await.unwrap();
        // Another process holds the write lock.
        let other = rusqlite::Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let write = tokio::spawn({
            let db = db.clone();
            async move { db.put_subscription(&subscription("https://x.example/f", "https://a.example/cb", 9)).await }
        });
        let started = Instant::now();
        // The only worker runs the write's task, then this timer.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let waited = started.elapsed();
        other.execute_batch("COMMIT").unwrap();
        assert!(waited < Duration::from_secs(2), "the runtime was held for {waited:?}");
        write.await.unwrap().unwrap();
        assert_eq!(db.live_subscriptions(1).await.unwrap(), 1);
    });
}

/// A migration that fails leaves nothing of itself (it was `BEGIN; …; COMMIT` in one batch:
/// a failing statement left the transaction open on the shared connection).
#[tokio::test]
async fn a_failed_migration_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&sqlite(&dir)).await.unwrap();
    static BAD: &[(i64, &str)] = &[(100, "CREATE TABLE half (x BIGINT); CREATE TABLE half (x BIGINT)")];
    let err = migrations::apply(&db, BAD).await.unwrap_err();
    assert!(matches!(err, DbError::Migration(ref m) if m.contains("migration 100")), "{err:?}");
    let tables = db.query("SELECT name FROM sqlite_master WHERE name = 'half'", vec![]).await.unwrap();
    assert!(tables.is_empty(), "{tables:?}");
    let recorded = db.query("SELECT version FROM schema_migrations WHERE version = 100", vec![]).await.unwrap();
    assert!(recorded.is_empty(), "{recorded:?}");
    // The connection is not left in a transaction: a write is kept.
    db.salt(day("2026-01-01"), "s").await.unwrap();
    drop(db);
    let db = Db::open(&sqlite(&dir)).await.unwrap();
    assert_eq!(db.salt(day("2026-01-01"), "t").await.unwrap(), "s");
}

/// Whether `db`'s session with the server is encrypted, as the server sees it.
async fn encrypted(db: &Db) -> bool {
    let rows = db.query("SELECT COUNT(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl", vec![]).await.unwrap();
    rows[0][0] == Value::Int(1)
}

/// Issue 26: PostgreSQL was reached with `NoTls` whatever the URL said. Needs a server with
/// TLS on (`TIDINGS_PG_SSL=1 scripts/postgres.sh start`) and the authority that signed its
/// certificate in `TIDINGS_TEST_POSTGRES_ROOT`.
#[tokio::test]
async fn postgres_over_tls_as_sslmode_says() {
    let Some((url, root)) = crate::test_support::postgres_tls() else { return };
    let root = root.display().to_string();
    for spec in [
        url.clone(),
        with(&url, "sslmode=prefer"),
        with(&url, "sslmode=require"),
        with(&url, &format!("sslmode=verify-ca&sslrootcert={root}")),
        with(&url, &format!("sslmode=verify-full&sslrootcert={root}")),
    ] {
        let db = Db::open(&spec).await.unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert!(encrypted(&db).await, "{spec}: not encrypted");
    }
    let plain = Db::open(&with(&url, "sslmode=disable")).await.unwrap();
    assert!(!encrypted(&plain).await, "sslmode=disable: encrypted");
    for spec in [with(&url, "sslmode=verify-full"), with(&url, "sslmode=verify-ca")] {
        let err = Db::open(&spec)
            .await
            .err()
            .unwrap_or_else(|| panic!("{spec}: a certificate nobody known signed was taken"));
        assert!(matches!(err, DbError::Tls(_)), "{err:?}");
        assert!(err.to_string().contains("sslrootcert=FILE"), "{err}");
    }
}
