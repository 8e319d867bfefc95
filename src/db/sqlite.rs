//! SQLite on a thread of its own: the thread owns the connection, takes work through a
//! bounded channel and answers each piece through a oneshot channel. A whole transaction is
//! one piece of work, so nothing else runs on the connection in the middle of it, and a
//! wait on another process's lock (the busy timeout) or a long flush of counts holds this
//! thread, never one of the runtime's workers.
//!
//! This file knows rusqlite and nothing of the session above it: the thread keeps its
//! connection in whatever the caller wraps it in (`S`, the session `mod.rs` builds), and
//! runs pieces of work over that; [`execute`], [`query`] and [`batch`] work on a bare
//! [`rusqlite::Connection`].

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::error::DbError;
use super::value::Value;

/// The database thread's name (it shows in `top -H`, debuggers and panics).
pub const THREAD_NAME: &str = "tidings-sqlite";

/// Pieces of work waiting for the thread at most; callers wait for room beyond that.
const QUEUE: usize = 64;

/// How long a write waits for another process's (`tidings stats`, a second server) lock.
const BUSY_TIMEOUT_MS: u32 = 5000;

type Job<S> = Box<dyn FnOnce(&mut S) + Send>;

/// The handle to the database thread; the thread ends (closing the file) with the last one.
/// The thread keeps its connection in an `S` for good (see [`Worker::open`]).
pub(super) struct Worker<S> {
    jobs: mpsc::Sender<Job<S>>,
    description: Arc<str>,
}

impl<S: 'static> Worker<S> {
    /// Starts the thread and opens (creating if needed) the file at `path` on it; the
    /// connection is kept in `wrap(connection)` from then on. `recover` is called on it after
    /// a piece of work panicked (to roll back a transaction left open: [`roll_back_left_open`]).
    pub(super) async fn open<W>(
        path: std::path::PathBuf,
        description: Arc<str>,
        wrap: W,
        recover: fn(&mut S),
    ) -> Result<Worker<S>, DbError>
    where
        W: FnOnce(rusqlite::Connection) -> S + Send + 'static,
    {
        let (jobs, mut queue) = mpsc::channel::<Job<S>>(QUEUE);
        let (opened, opening) = oneshot::channel();
        let thread_description = description.clone();
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                let connection = match open(&path, &thread_description) {
                    Ok(connection) => connection,
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                let _ = opened.send(Ok(()));
                let mut session = wrap(connection);
                while let Some(job) = queue.blocking_recv() {
                    // A panicking body loses its answer (the caller hears the thread dropped
                    // it), not the thread; a transaction it left open is rolled back.
                    if std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut session))).is_err() {
                        recover(&mut session);
                    }
                }
            })
            .map_err(|e| DbError::Other(format!("{description}: cannot start the database thread: {e}")))?;
        opening.await.map_err(|_| stopped(&description))??;
        Ok(Worker { jobs, description })
    }

    /// Runs `work` on the database thread, with the connection (as kept); its answer.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut S) -> Result<T, DbError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job<S> = Box::new(move |tx| {
            let _ = answer.send(work(tx));
        });
        self.jobs.send(job).await.map_err(|_| stopped(&self.description))?;
        answered.await.map_err(|_| stopped(&self.description))?
    }
}

fn stopped(description: &str) -> DbError {
    DbError::Other(format!("{description}: the database thread stopped before answering (see the log for a panic)"))
}

/// Opens the file, with WAL (readers such as `tidings stats` never wait for the server's
/// writes), no sync per commit, and a busy timeout for the rare moment two processes write.
fn open(path: &std::path::Path, description: &str) -> Result<rusqlite::Connection, DbError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(DbError::Connection(format!(
            "{description}: the folder {} does not exist: create it, or point --database elsewhere",
            parent.display()
        )));
    }
    let connection = rusqlite::Connection::open(path).map_err(|e| {
        DbError::Connection(format!(
            "{description}: cannot open the database: {e}; check the path and its permissions, or point \
             --database (TIDINGS_DATABASE) at a writable place"
        ))
    })?;
    connection
        .execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {BUSY_TIMEOUT_MS};"
        ))
        .map_err(|e| DbError::sqlite(description, &e))?;
    Ok(connection)
}

/// Runs one statement; how many rows it changed.
pub(super) fn execute(
    connection: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
    description: &str,
) -> Result<u64, DbError> {
    let error = |e| DbError::sqlite(description, &e);
    let mut statement = connection.prepare_cached(sql).map_err(error)?;
    statement.execute(rusqlite::params_from_iter(values.iter().map(bind))).map(|n| n as u64).map_err(error)
}

/// Runs one query; its rows.
pub(super) fn query(
    connection: &rusqlite::Connection,
    sql: &str,
    values: &[Value],
    description: &str,
) -> Result<Vec<Vec<Value>>, DbError> {
    let error = |e| DbError::sqlite(description, &e);
    let mut statement = connection.prepare_cached(sql).map_err(error)?;
    let columns = statement.column_count();
    let mut rows = statement.query(rusqlite::params_from_iter(values.iter().map(bind))).map_err(error)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(error)? {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i).map_err(error)? {
                rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                rusqlite::types::ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                rusqlite::types::ValueRef::Real(r) => Value::Int(r as i64),
                rusqlite::types::ValueRef::Null | rusqlite::types::ValueRef::Blob(_) => Value::Text(String::new()),
            });
        }
        out.push(values);
    }
    Ok(out)
}

/// Runs statements that take no values, `;`-separated.
pub(super) fn batch(connection: &rusqlite::Connection, sql: &str, description: &str) -> Result<(), DbError> {
    connection.execute_batch(sql).map_err(|e| DbError::sqlite(description, &e))
}

/// Rolls back a transaction a piece of work left open (it panicked half-way).
pub(super) fn roll_back_left_open(connection: &rusqlite::Connection) {
    if !connection.is_autocommit() {
        let _ = connection.execute_batch("ROLLBACK");
    }
}

fn bind(value: &Value) -> rusqlite::types::Value {
    match value {
        Value::Int(n) => rusqlite::types::Value::Integer(*n),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_database_thread() {
        let dir = tempfile::tempdir().unwrap();
        let worker =
            Worker::open(dir.path().join("t.db"), "t.db".into(), |c| c, |c| roll_back_left_open(c)).await.unwrap();
        let name = worker.run(|_| Ok(std::thread::current().name().map(str::to_owned))).await.unwrap();
        assert_eq!(name.as_deref(), Some(THREAD_NAME));
        // A panicking piece of work loses its answer, not the thread.
        let lost = worker.run(|_| -> Result<(), DbError> { panic!("on purpose") }).await.unwrap_err();
        assert!(lost.to_string().contains("stopped before answering"), "{lost}");
        assert!(worker.run(|_| Ok(())).await.is_ok());
        // A transaction a panicking piece of work left open is rolled back.
        let lost = worker.run(|c| -> Result<(), DbError> {
            batch(c, "CREATE TABLE t (n BIGINT); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)", "t.db")?;
            panic!("on purpose")
        });
        assert!(lost.await.is_err());
        let rows = worker.run(|c| query(c, "SELECT n FROM t", &[], "t.db")).await.unwrap();
        assert!(rows.is_empty(), "{rows:?}");
        assert!(worker.run(|c| Ok(c.is_autocommit())).await.unwrap());
    }
}
