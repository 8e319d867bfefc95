//! Helpers the database's unit tests share: a PostgreSQL to test against, or a note that the
//! test is skipped.

use std::path::PathBuf;

/// Says on stderr itself (libtest captures `eprintln!`, not this) that the test running on
/// this thread (libtest names it after the test) is skipped, and why.
pub fn skipped(why: &str) {
    use std::io::Write;
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = std::io::stderr().write_all(format!("SKIPPED {test}: {why}\n").as_bytes());
}

/// The PostgreSQL server to test against, `TIDINGS_TEST_POSTGRES`; `None`, after saying the
/// test is skipped, when it is not set.
pub fn postgres() -> Option<String> {
    let url = std::env::var("TIDINGS_TEST_POSTGRES").ok();
    if url.is_none() {
        skipped("set TIDINGS_TEST_POSTGRES=postgres://… (scripts/postgres.sh start) to test PostgreSQL");
    }
    url
}

/// A PostgreSQL server with TLS on and the certificate of the authority that signed its
/// own (`TIDINGS_TEST_POSTGRES_ROOT`); `None`, after saying the test is skipped, without.
pub fn postgres_tls() -> Option<(String, PathBuf)> {
    let url = postgres()?;
    let Ok(root) = std::env::var("TIDINGS_TEST_POSTGRES_ROOT") else {
        skipped(
            "set TIDINGS_TEST_POSTGRES_ROOT too (TIDINGS_PG_SSL=1 scripts/postgres.sh start; the file is \
             $TIDINGS_PG_DIR/ssl/root.crt) to test PostgreSQL over TLS",
        );
        return None;
    };
    Some((url, PathBuf::from(root)))
}
