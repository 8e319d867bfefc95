//! The service's own state: the built-in hub's subscriptions and the subscriber counts, in
//! SQLite (a file, the default) or PostgreSQL (`postgres://…`, shared by replicas).
//!
//! Every query is written once, with `?` placeholders and only `BIGINT` and `TEXT` values,
//! in the SQL both engines take (`INSERT … ON CONFLICT … DO UPDATE`); the two adapters
//! (`sqlite.rs`, `postgres.rs`) only bind values and read rows. Work on the database is a
//! session ([`Tx`], `tx.rs`) that owns the connection while it runs: a transaction
//! ([`Db::transaction`]) commits or rolls back as a unit, and nobody else's statements land
//! in the middle of it. The schema is a list of numbered migrations (`migrations.rs`).
//!
//! Why rusqlite and tokio-postgres rather than one crate for both (sqlx): each is the
//! maintained standard driver of its engine, neither needs a macro or a live database to
//! compile, and the two adapters together are shorter than the feature flags and `Any`
//! driver rules sqlx would need. SQLite runs on a thread of its own, never on the runtime's
//! workers; PostgreSQL gets one connection (TLS as `sslmode` says, `tls.rs`), opened again
//! when it breaks between sessions. Nothing here is on a request's path: counts are
//! written in batches.
//!
//! This layer imports nothing of the layers above it: what they decide (caps, the rows'
//! meaning) comes in as values. Inside it the imports run one way: the adapters know their
//! driver, `error.rs` and `value.rs` (and PostgreSQL `tls.rs`) and nothing of [`Tx`];
//! `tx.rs` wraps either adapter's connection in a [`Tx`]; this file picks the engine and
//! builds the `Tx` ([`Db::transaction`]); the queries (`counts.rs`, `subscriptions.rs`,
//! `migrations.rs`) use [`Db`] and [`Tx`].

mod counts;
mod error;
mod migrations;
mod postgres;
mod sqlite;
mod subscriptions;
mod tls;
mod tx;
mod value;

use std::sync::Arc;

pub use counts::{CountBatch, DayCounts, KEEP_DAYS, MAX_FEED_IDS, MAX_POLLERS_PER_ADDRESS, MAX_POLLERS_PER_FEED};
pub use error::DbError;
pub use subscriptions::{CLAIM_SECS, Subscription};
pub use tx::{Tx, TxFuture};
pub use value::Value;

/// The database: cheap to clone, safe to share.
#[derive(Clone)]
pub struct Db {
    backend: Arc<Backend>,
    /// Where it is, without a password, for messages.
    pub description: String,
}

enum Backend {
    Sqlite(sqlite::Worker<Tx>),
    Postgres(Box<postgres::Postgres>),
}

impl Db {
    /// Opens (creating if needed) the database `spec` names, `postgres://…` or
    /// `postgresql://…` for PostgreSQL (`sslmode` and `sslrootcert` as libpq reads them),
    /// anything else a SQLite file, and brings its schema up to date.
    pub async fn open(spec: &str) -> Result<Db, DbError> {
        let db = if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let description = redact(spec);
            let backend =
                Backend::Postgres(Box::new(postgres::Postgres::open(spec, description.as_str().into()).await?));
            Db { backend: Arc::new(backend), description }
        } else {
            let path = std::path::PathBuf::from(spec);
            let description = path.display().to_string();
            let name: Arc<str> = description.as_str().into();
            let session = name.clone();
            let worker = sqlite::Worker::open(path, name, move |c| Tx::sqlite(c, session), Tx::abandon).await?;
            let backend = Backend::Sqlite(worker);
            Db { backend: Arc::new(backend), description }
        };
        migrations::migrate(&db).await?;
        Ok(db)
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(*self.backend, Backend::Postgres(..))
    }

    /// Runs `body` in one transaction, which owns the connection until it ends: committed
    /// if `body` succeeds, rolled back if it fails (or the connection breaks), and nothing
    /// else runs on the connection meanwhile. The body must only await its [`Tx`]: on
    /// SQLite it runs on the database's thread, and on either engine another call on this
    /// `Db` would wait for the transaction's end, for ever.
    pub async fn transaction<T, F>(&self, body: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, T> + Send + 'static,
    {
        self.session(true, body).await
    }

    /// Runs `body` with the connection, in a transaction or statement by statement.
    async fn session<T, F>(&self, transaction: bool, body: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, T> + Send + 'static,
    {
        match &*self.backend {
            Backend::Sqlite(worker) => worker.run(move |tx| tx::block_on(run(tx, transaction, body))).await,
            Backend::Postgres(postgres) => {
                let mut tx = Tx::postgres(postgres.session().await?, postgres.description().clone());
                run(&mut tx, transaction, body).await
            }
        }
    }

    /// Runs statements that take no values, outside a transaction (the tests' set-up).
    #[cfg(test)]
    async fn batch(&self, sql: &str) -> Result<(), DbError> {
        let sql = sql.to_owned();
        self.session(false, move |tx| Box::pin(async move { tx.batch(&sql).await })).await
    }

    /// Runs one statement on its own; how many rows it changed.
    async fn execute(&self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        let sql = sql.to_owned();
        self.session(false, move |tx| Box::pin(async move { tx.execute(&sql, values).await })).await
    }

    /// Runs one query on its own; its rows.
    async fn query(&self, sql: &str, values: Vec<Value>) -> Result<Vec<Vec<Value>>, DbError> {
        let sql = sql.to_owned();
        self.session(false, move |tx| Box::pin(async move { tx.query(&sql, values).await })).await
    }
}

/// `body` on `tx`, between `BEGIN` and `COMMIT` (or `ROLLBACK`) if `transaction`.
async fn run<T, F>(tx: &mut Tx, transaction: bool, body: F) -> Result<T, DbError>
where
    F: for<'t> FnOnce(&'t mut Tx) -> TxFuture<'t, T>,
{
    if !transaction {
        return body(tx).await;
    }
    tx.begin().await?;
    let outcome = body(tx).await;
    tx.finish(outcome).await
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
mod tests;
