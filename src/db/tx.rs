//! A session: one connection, owned for as long as a piece of work (a transaction, or one
//! statement) needs it, so that nobody else's statements land in between.
//!
//! This file sits above the two adapters and below `mod.rs`: it wraps either one's connection
//! (SQLite's [`rusqlite::Connection`], PostgreSQL's `postgres::Held`) and dispatches each
//! statement to its adapter; `mod.rs` picks the engine and builds the `Tx`.
//!
//! The work is an async body over [`Tx`], written once for both engines. On SQLite it runs
//! on the database's own thread (see `sqlite.rs`), driven by [`block_on`], where every
//! statement completes at once; on PostgreSQL it runs on the caller's task, holding the
//! connection's lock from the first statement to `COMMIT`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use super::error::DbError;
use super::value::Value;
use super::{postgres, sqlite};

/// The future of a session's body: it borrows the [`Tx`] it is given and only awaits it.
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, DbError>> + Send + 't>>;

/// The connection a transaction (or a single statement) owns while it runs.
pub struct Tx {
    conn: Conn,
    description: Arc<str>,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(postgres::Held),
}

impl Tx {
    /// A session on SQLite's connection (the database thread keeps it for good).
    pub(super) fn sqlite(connection: rusqlite::Connection, description: Arc<str>) -> Tx {
        Tx { conn: Conn::Sqlite(connection), description }
    }

    /// A session on PostgreSQL's connection, whose lock it holds until dropped.
    pub(super) fn postgres(slot: postgres::Held, description: Arc<str>) -> Tx {
        Tx { conn: Conn::Postgres(slot), description }
    }

    /// Runs one statement; how many rows it changed.
    pub async fn execute(&mut self, sql: &str, values: Vec<Value>) -> Result<u64, DbError> {
        match &mut self.conn {
            Conn::Sqlite(connection) => sqlite::execute(connection, sql, &values, &self.description),
            Conn::Postgres(slot) => slot.execute(sql, &values, &self.description).await,
        }
    }

    /// Runs one query; its rows.
    pub async fn query(&mut self, sql: &str, values: Vec<Value>) -> Result<Vec<Vec<Value>>, DbError> {
        match &mut self.conn {
            Conn::Sqlite(connection) => sqlite::query(connection, sql, &values, &self.description),
            Conn::Postgres(slot) => slot.query(sql, &values, &self.description).await,
        }
    }

    /// Runs statements that take no values (the schema), `;`-separated.
    pub async fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(connection) => sqlite::batch(connection, sql, &self.description),
            Conn::Postgres(slot) => slot.batch(sql, &self.description).await,
        }
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.conn, Conn::Postgres(_))
    }

    /// Starts a transaction: `BEGIN IMMEDIATE` on SQLite (the write lock now, so that two
    /// processes never deadlock upgrading), `BEGIN` on PostgreSQL.
    pub(super) async fn begin(&mut self) -> Result<(), DbError> {
        match &mut self.conn {
            Conn::Sqlite(_) => self.batch("BEGIN IMMEDIATE").await,
            Conn::Postgres(slot) => {
                slot.began();
                self.batch("BEGIN").await
            }
        }
    }

    /// Ends the transaction `begin` started: `COMMIT` if `outcome` is a success (a failed
    /// commit is the outcome then), `ROLLBACK` otherwise.
    pub(super) async fn finish<T>(&mut self, outcome: Result<T, DbError>) -> Result<T, DbError> {
        let end = match outcome {
            Ok(value) => self.batch("COMMIT").await.map(|()| value),
            Err(e) => Err(e),
        };
        if end.is_err() {
            // Nothing to do if the connection is gone: the server has rolled back.
            let _ = self.batch("ROLLBACK").await;
        }
        if let Conn::Postgres(slot) = &mut self.conn {
            slot.ended();
        }
        end
    }

    /// Rolls back a transaction left open (its body panicked).
    pub(super) fn abandon(&mut self) {
        if let Conn::Sqlite(connection) = &self.conn {
            sqlite::roll_back_left_open(connection);
        }
    }
}

/// Runs `future` to its end on this thread (SQLite's), parking while it waits (a session's
/// body only awaits statements, which on SQLite are ready at once).
pub(super) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}
