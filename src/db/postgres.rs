//! PostgreSQL: one connection (over TLS as `sslmode` says, see `tls.rs`), behind a lock that
//! a session holds from its first statement to its last. A connection found closed when a
//! session starts is opened again (a restarted server); one that breaks inside a
//! transaction is an error, and the next session opens a new one.
//!
//! This file knows tokio-postgres and nothing of the session above it: [`Postgres::session`]
//! hands out the connection's lock ([`Held`]), on which [`Slot::execute`], [`Slot::query`] and
//! [`Slot::batch`] run statements and [`Slot::began`] and [`Slot::ended`] mark a transaction.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::types::{ToSql, Type};

use super::error::DbError;
use super::tls::Target;
use super::value::Value;

/// How long connecting (TCP, TLS, authentication) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection as sessions find it.
pub(super) struct Slot {
    /// The client, once connected.
    client: Option<tokio_postgres::Client>,
    /// Whether a transaction began and did not end (its session was dropped half-way): the
    /// connection cannot be trusted to be outside one, so it is opened again.
    in_transaction: bool,
}

/// A session's hold on the connection: its lock, kept until dropped.
pub(super) type Held = tokio::sync::OwnedMutexGuard<Slot>;

impl Slot {
    /// The client, as it is: never connected again here, in the middle of a session.
    fn client(&self, description: &str) -> Result<&tokio_postgres::Client, DbError> {
        match &self.client {
            Some(client) if !client.is_closed() => Ok(client),
            _ => Err(DbError::Connection(format!(
                "{description}: the connection to PostgreSQL broke in the middle of the work; nothing of it was kept"
            ))),
        }
    }

    /// Runs one statement; how many rows it changed.
    pub(super) async fn execute(&self, sql: &str, values: &[Value], description: &str) -> Result<u64, DbError> {
        execute(self.client(description)?, sql, values, description).await
    }

    /// Runs one query; its rows.
    pub(super) async fn query(
        &self,
        sql: &str,
        values: &[Value],
        description: &str,
    ) -> Result<Vec<Vec<Value>>, DbError> {
        query(self.client(description)?, sql, values, description).await
    }

    /// Runs statements that take no values, `;`-separated.
    pub(super) async fn batch(&self, sql: &str, description: &str) -> Result<(), DbError> {
        batch(self.client(description)?, sql, description).await
    }

    /// Marks a transaction begun (before its `BEGIN`): until [`Slot::ended`], the next
    /// session opens the connection again.
    pub(super) fn began(&mut self) {
        self.in_transaction = true;
    }

    /// Marks the transaction ended (after its `COMMIT` or `ROLLBACK`), unless the connection
    /// broke meanwhile (then the next session opens it again anyway).
    pub(super) fn ended(&mut self) {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            self.in_transaction = false;
        }
    }
}

/// A PostgreSQL database: where it is and its one connection.
pub(super) struct Postgres {
    target: Target,
    slot: Arc<tokio::sync::Mutex<Slot>>,
    description: Arc<str>,
}

impl Postgres {
    /// Connects to the database `spec` (a `postgres://` URL) names.
    pub(super) async fn open(spec: &str, description: Arc<str>) -> Result<Postgres, DbError> {
        let target = Target::parse(spec, &description)?;
        let client = connect(&target, &description).await?;
        let slot = Slot { client: Some(client), in_transaction: false };
        Ok(Postgres { target, slot: Arc::new(tokio::sync::Mutex::new(slot)), description })
    }

    /// A session: the connection's lock, and a connection that is open and outside any
    /// transaction (opened again if it had closed or was left in one).
    pub(super) async fn session(&self) -> Result<Held, DbError> {
        let mut slot = self.slot.clone().lock_owned().await;
        if slot.in_transaction || slot.client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
            // Dropping a client closes its connection; the server rolls back what was open.
            slot.client = None;
            slot.in_transaction = false;
            slot.client = Some(connect(&self.target, &self.description).await?);
        }
        Ok(slot)
    }

    /// Where it is, without a password, for messages.
    pub(super) fn description(&self) -> &Arc<str> {
        &self.description
    }
}

/// Opens a connection; its driving task logs when it closes.
async fn connect(target: &Target, description: &str) -> Result<tokio_postgres::Client, DbError> {
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, target.config.connect(target.tls.clone()))
        .await
        .map_err(|_| {
            DbError::Connection(format!(
                "{description}: no answer within {} s; is PostgreSQL running there?",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| match DbError::postgres(description, &e) {
            DbError::Tls(message) => DbError::Tls(message),
            other => {
                DbError::Connection(format!("{description}: cannot connect: {}", strip(other.message(), description)))
            }
        })?;
    let description = description.to_owned();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(database = %description, error = %e, "database connection closed");
        }
    });
    Ok(client)
}

/// A message without the `description: ` it starts with.
fn strip<'a>(message: &'a str, description: &str) -> &'a str {
    message.strip_prefix(description).and_then(|m| m.strip_prefix(": ")).unwrap_or(message)
}

/// Runs one statement; how many rows it changed.
async fn execute(
    client: &tokio_postgres::Client,
    sql: &str,
    values: &[Value],
    description: &str,
) -> Result<u64, DbError> {
    client
        .execute(numbered_placeholders(sql).as_str(), &params(values))
        .await
        .map_err(|e| DbError::postgres(description, &e))
}

/// Runs one query; its rows.
async fn query(
    client: &tokio_postgres::Client,
    sql: &str,
    values: &[Value],
    description: &str,
) -> Result<Vec<Vec<Value>>, DbError> {
    let error = |e| DbError::postgres(description, &e);
    let rows = client.query(numbered_placeholders(sql).as_str(), &params(values)).await.map_err(error)?;
    rows.iter()
        .map(|row| {
            (0..row.len())
                .map(|i| {
                    let value = match *row.columns()[i].type_() {
                        Type::INT8 => row.try_get::<_, Option<i64>>(i).map(|n| Value::Int(n.unwrap_or(0))),
                        Type::INT4 => row.try_get::<_, Option<i32>>(i).map(|n| Value::Int(i64::from(n.unwrap_or(0)))),
                        _ => row.try_get::<_, Option<String>>(i).map(|t| Value::Text(t.unwrap_or_default())),
                    };
                    value.map_err(error)
                })
                .collect()
        })
        .collect()
}

/// Runs statements that take no values, `;`-separated.
async fn batch(client: &tokio_postgres::Client, sql: &str, description: &str) -> Result<(), DbError> {
    client.batch_execute(sql).await.map_err(|e| DbError::postgres(description, &e))
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values
        .iter()
        .map(|v| match v {
            Value::Int(n) => n as &(dyn ToSql + Sync),
            Value::Text(t) => t as &(dyn ToSql + Sync),
        })
        .collect()
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`, … (the queries here have no `?` in literals).
pub(super) fn numbered_placeholders(sql: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(numbered_placeholders("a = ? AND b = ?"), "a = $1 AND b = $2");
    }
}
