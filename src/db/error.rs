//! What went wrong talking to the database, by kind, each with a message that says where.
//!
//! The kind is what a caller acts on ([`DbError::is_transient`]: try again later, or not);
//! the message is what a person reads, and starts with the database's description.

use std::error::Error as _;

/// What went wrong talking to the database, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbError {
    /// Another writer holds the database (SQLite's busy timeout ran out) or the transaction
    /// lost a race (PostgreSQL's serialization failure, deadlock or lock timeout).
    Busy(String),
    /// A statement broke a constraint of the schema (a key, a `NOT NULL`, a check).
    Constraint(String),
    /// The database cannot be reached, or the connection broke (inside a transaction too).
    Connection(String),
    /// The TLS handshake with PostgreSQL failed, or `sslmode`/`sslrootcert` asked for
    /// something that cannot be done.
    Tls(String),
    /// A schema migration failed; the database is as it was before that migration.
    Migration(String),
    /// Anything else (a bad statement, a full disk, an unreadable file).
    Other(String),
}

impl DbError {
    /// The message, whatever the kind.
    pub fn message(&self) -> &str {
        match self {
            DbError::Busy(m)
            | DbError::Constraint(m)
            | DbError::Connection(m)
            | DbError::Tls(m)
            | DbError::Migration(m)
            | DbError::Other(m) => m,
        }
    }

    /// Whether the same work may succeed later unchanged (busy, or the connection broke).
    pub fn is_transient(&self) -> bool {
        matches!(self, DbError::Busy(_) | DbError::Connection(_))
    }

    /// A SQLite error of the database `description`, by its result code.
    pub(super) fn sqlite(description: &str, e: &rusqlite::Error) -> DbError {
        use rusqlite::ErrorCode as Code;
        let message = format!("{description}: {e}");
        match e.sqlite_error_code() {
            Some(Code::DatabaseBusy | Code::DatabaseLocked) => DbError::Busy(message),
            Some(Code::ConstraintViolation) => DbError::Constraint(message),
            Some(Code::CannotOpen | Code::NotADatabase | Code::PermissionDenied) => DbError::Connection(message),
            _ => DbError::Other(message),
        }
    }

    /// A PostgreSQL error of the database `description`, by its SQLSTATE or its cause.
    pub(super) fn postgres(description: &str, e: &tokio_postgres::Error) -> DbError {
        if let Some(tls) = tls_cause(e) {
            return DbError::Tls(format!("{description}: cannot connect: {e}: {tls}{}", tls_hint(&tls)));
        }
        let message = match e.as_db_error() {
            // The server's own words: its message, and the detail when it gives one.
            Some(db) => match db.detail() {
                Some(detail) => format!("{description}: {}: {} ({detail})", db.severity(), db.message()),
                None => format!("{description}: {}: {}", db.severity(), db.message()),
            },
            None => format!("{description}: {e}"),
        };
        let code = e.code().map(|c| c.code()).unwrap_or("");
        if code.starts_with("23") {
            DbError::Constraint(message)
        } else if matches!(code, "40001" | "40P01" | "55P03") {
            DbError::Busy(message)
        } else if code.starts_with("08") || code.starts_with("57P") || e.is_closed() || io_cause(e) {
            DbError::Connection(message)
        } else {
            DbError::Other(message)
        }
    }
}

/// The TLS error under a PostgreSQL error, if the handshake (or TLS's absence) is the cause.
fn tls_cause(e: &tokio_postgres::Error) -> Option<String> {
    // tokio-postgres says "error performing TLS handshake" for both a failed handshake and a
    // server that has no TLS when `sslmode` requires it; the cause is in the source.
    if !e.to_string().contains("TLS") {
        return None;
    }
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<tokio_rustls::rustls::Error>() {
            return Some(tls.to_string());
        }
        source = cause.source();
    }
    Some(e.source().map(ToString::to_string).unwrap_or_default())
}

/// What to do about a TLS failure, for the message.
fn tls_hint(cause: &str) -> &'static str {
    if cause.contains("UnknownIssuer") || cause.contains("BadSignature") {
        "; the server's certificate is not signed by an authority known here: name the authority's \
         certificate with sslrootcert=FILE in the URL, or use sslmode=require to encrypt without checking it"
    } else if cause.contains("NotValidForName") {
        "; the server's certificate is for another name: connect by a name it shows, or use sslmode=verify-ca"
    } else if cause.contains("does not support TLS") {
        "; the server offers no TLS: turn ssl on there, or use sslmode=prefer or disable"
    } else {
        ""
    }
}

/// Whether an I/O error (a refused or reset connection) is under a PostgreSQL error.
fn io_cause(e: &tokio_postgres::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for DbError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn sqlite_errors_are_sorted_by_their_code() {
        let busy = DbError::sqlite("t.db", &sqlite_failure(rusqlite::ffi::SQLITE_BUSY));
        assert!(matches!(busy, DbError::Busy(ref m) if m.starts_with("t.db: ")), "{busy:?}");
        assert!(busy.is_transient());
        let locked = DbError::sqlite("t.db", &sqlite_failure(rusqlite::ffi::SQLITE_LOCKED));
        assert!(matches!(locked, DbError::Busy(_)), "{locked:?}");
        let key = DbError::sqlite("t.db", &sqlite_failure(rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY));
        assert!(matches!(key, DbError::Constraint(_)), "{key:?}");
        assert!(!key.is_transient());
        let full = DbError::sqlite("t.db", &sqlite_failure(rusqlite::ffi::SQLITE_FULL));
        assert!(matches!(full, DbError::Other(_)), "{full:?}");
        assert_eq!(DbError::Migration("m".into()).to_string(), "m");
    }
}
