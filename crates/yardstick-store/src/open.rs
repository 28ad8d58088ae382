//! Turning a user's `--db` value into a connected, migrated pool.
//!
//! Everything here is about failing well: the user typed a path or URL, so
//! every error names the place we tried (never the password) and says what to
//! change.

use crate::error::StoreError;
use crate::Backend;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AnyConnection, AnyPool};
use sqlx::{Connection, Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// SQLite connections in the pool. One writer is expected (the run engine's
/// writer task); the rest let readers (dashboard, reports) run beside it under
/// WAL without waiting for each other.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// PostgreSQL connections in the pool: enough for a writer plus concurrent
/// readers, few enough that many workers share one server.
const POSTGRES_MAX_CONNECTIONS: u32 = 8;
/// How long the first PostgreSQL connection may take before we call the host
/// unreachable (a firewall that drops packets would otherwise hang for minutes).
const POSTGRES_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Run on every SQLite connection. WAL lets readers proceed during writes;
/// `synchronous = NORMAL` is durable across application crashes under WAL and
/// much faster than FULL; the busy timeout makes a second writer wait instead
/// of failing; foreign keys are off by default in SQLite.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; \
     PRAGMA foreign_keys = ON;";

const WHERE_TO_FIX: &str = "check --db / database in yardstick.toml";

/// A database location, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `None` is an in-memory database (`sqlite::memory:`).
    Sqlite {
        path: Option<PathBuf>,
        params: Option<String>,
    },
    /// `display` is `host:port, database NAME`, without credentials.
    Postgres { url: String, display: String },
}

/// Reads `sqlite://path`, `sqlite:path`, `postgres://…`, `postgresql://…` or a
/// plain file path.
pub(crate) fn parse_target(input: &str) -> Result<Target, StoreError> {
    let lower = input.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let url = url::Url::parse(input).map_err(|e| StoreError::Connect {
            backend: Backend::Postgres,
            target: "(unparseable URL)".into(),
            reason: format!("invalid URL: {e}"),
            hint: "write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into(),
            source: None,
        })?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        let port = url.port().unwrap_or(5432);
        let database = url.path().trim_start_matches('/');
        let database = if database.is_empty() {
            url.username()
        } else {
            database
        };
        let display = if database.is_empty() {
            format!("{host}:{port}")
        } else {
            format!(
                "{host}:{port}, database `{}`",
                percent_decode_str(database).decode_utf8_lossy()
            )
        };
        return Ok(Target::Postgres {
            url: input.to_string(),
            display,
        });
    }
    if lower.starts_with("sqlite:") {
        let rest = &input["sqlite:".len()..];
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (db, params) = match rest.split_once('?') {
            Some((db, params)) => (db, Some(params.to_string())),
            None => (rest, None),
        };
        if db == ":memory:"
            || (db.is_empty() && params.as_deref().is_some_and(|p| p.contains("mode=memory")))
        {
            return Ok(Target::Sqlite {
                path: None,
                params: None,
            });
        }
        if db.is_empty() {
            return Err(bad_sqlite_path(input, "the URL names no file"));
        }
        let decoded = percent_decode_str(db).decode_utf8().map_err(|_| {
            bad_sqlite_path(input, "the path is not valid UTF-8 after percent-decoding")
        })?;
        return Ok(Target::Sqlite {
            path: Some(PathBuf::from(decoded.as_ref())),
            params,
        });
    }
    if let Some((scheme, _)) = input.split_once("://") {
        // Only the scheme is echoed: the rest may hold a password.
        return Err(StoreError::UnsupportedUrl {
            scheme: scheme.to_string(),
        });
    }
    if input.is_empty() {
        return Err(bad_sqlite_path(input, "the path is empty"));
    }
    Ok(Target::Sqlite {
        path: Some(PathBuf::from(input)),
        params: None,
    })
}

fn bad_sqlite_path(input: &str, reason: &str) -> StoreError {
    StoreError::Connect {
        backend: Backend::Sqlite,
        target: format!("`{input}`"),
        reason: reason.into(),
        hint: format!("give a file path such as ./yardstick.db; {WHERE_TO_FIX}"),
        source: None,
    }
}

/// Connects and migrates. Returns the pool and the credential-free target
/// used in later messages.
pub(crate) async fn connect(target: Target) -> Result<(AnyPool, Backend, String), StoreError> {
    sqlx::any::install_default_drivers();
    let (pool, backend, shown) = match target {
        Target::Sqlite { path, params } => {
            let (pool, shown) = connect_sqlite(path.as_deref(), params).await?;
            (pool, Backend::Sqlite, shown)
        }
        Target::Postgres { url, display } => (
            connect_postgres(&url, &display).await?,
            Backend::Postgres,
            display,
        ),
    };
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    if let Err(source) = migrator.run(&pool).await {
        pool.close().await;
        return Err(StoreError::Migrate {
            backend,
            target: shown,
            hint: migrate_hint(&source),
            source,
        });
    }
    Ok((pool, backend, shown))
}

/// Characters that would change the meaning of a SQLite URL; `%` included so
/// a literal percent in a file name survives sqlx's percent-decoding.
const SQLITE_PATH_ENCODE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

async fn connect_sqlite(
    path: Option<&Path>,
    params: Option<String>,
) -> Result<(AnyPool, String), StoreError> {
    let Some(path) = path else {
        // Every connection to `:memory:` is a separate database, so an
        // in-memory store is one connection that is never closed.
        let pool = AnyPoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .after_connect(|conn, _| {
                Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(drop) })
            })
            .connect("sqlite::memory:")
            .await
            .map_err(|e| sqlite_error(":memory:", e))?;
        return Ok((pool, ":memory:".into()));
    };
    let absolute = std::path::absolute(path).map_err(|e| StoreError::Connect {
        backend: Backend::Sqlite,
        target: path.display().to_string(),
        reason: format!("cannot resolve the path: {e}"),
        hint: format!("give an absolute path; {WHERE_TO_FIX}"),
        source: None,
    })?;
    let shown = absolute.display().to_string();
    if absolute.is_dir() {
        return Err(StoreError::Connect {
            backend: Backend::Sqlite,
            target: shown.clone(),
            reason: "that is a directory, not a database file".into(),
            hint: format!(
                "name a file inside it, e.g. {}",
                absolute.join("yardstick.db").display()
            ),
            source: None,
        });
    }
    if let Some(parent) = absolute.parent() {
        if !parent.is_dir() {
            return Err(StoreError::Connect {
                backend: Backend::Sqlite,
                target: shown,
                reason: format!("directory {} does not exist", parent.display()),
                hint: format!(
                    "create it first (mkdir -p {}) or {WHERE_TO_FIX}",
                    parent.display()
                ),
                source: None,
            });
        }
    }
    let encoded = utf8_percent_encode(&absolute.to_string_lossy(), SQLITE_PATH_ENCODE).to_string();
    let params = match params {
        Some(p) if p.split('&').any(|kv| kv.starts_with("mode=")) => p,
        Some(p) if !p.is_empty() => format!("{p}&mode=rwc"),
        _ => "mode=rwc".to_string(),
    };
    let url = format!("sqlite://{encoded}?{params}");
    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_MAX_CONNECTIONS)
        .after_connect(|conn, _| {
            Box::pin(async move { conn.execute(SQLITE_PRAGMAS).await.map(drop) })
        })
        .connect(&url)
        .await
        .map_err(|e| sqlite_error(&shown, e))?;
    Ok((pool, shown))
}

fn sqlite_error(shown: &str, e: sqlx::Error) -> StoreError {
    StoreError::Connect {
        backend: Backend::Sqlite,
        target: shown.to_string(),
        reason: e.to_string(),
        hint: "check that the file is a SQLite database and that you may read and write it and its directory".into(),
        source: Some(e),
    }
}

async fn connect_postgres(url: &str, display: &str) -> Result<AnyPool, StoreError> {
    // A single probe connection first: the pool retries refused connections
    // until its acquire timeout, which would turn "server down" into a long
    // silent wait.
    let fail = |reason: String, hint: String, source: Option<sqlx::Error>| StoreError::Connect {
        backend: Backend::Postgres,
        target: display.to_string(),
        reason,
        hint,
        source,
    };
    match tokio::time::timeout(POSTGRES_CONNECT_TIMEOUT, AnyConnection::connect(url)).await {
        Err(_) => {
            return Err(fail(
                format!("no answer within {} s", POSTGRES_CONNECT_TIMEOUT.as_secs()),
                format!("is the host reachable and the port right? {WHERE_TO_FIX}"),
                None,
            ))
        }
        Ok(Err(e)) => {
            let (reason, hint) = describe_postgres_error(&e);
            return Err(fail(reason, hint, Some(e)));
        }
        Ok(Ok(conn)) => {
            // Closing politely only saves the server a log line.
            let _ = conn.close().await;
        }
    }
    AnyPoolOptions::new()
        .max_connections(POSTGRES_MAX_CONNECTIONS)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .map_err(|e| {
            let (reason, hint) = describe_postgres_error(&e);
            fail(reason, hint, Some(e))
        })
}

/// A few words on what went wrong and what to do, from the error's kind.
fn describe_postgres_error(e: &sqlx::Error) -> (String, String) {
    match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => (
            "connection refused".into(),
            format!("is the server running and listening on that port? {WHERE_TO_FIX}"),
        ),
        sqlx::Error::Io(io) => (io.to_string(), format!("check the host name and port; {WHERE_TO_FIX}")),
        sqlx::Error::Tls(tls) => (
            format!("TLS failed: {tls}"),
            "check the sslmode parameter of the URL (e.g. ?sslmode=disable for a local server)".into(),
        ),
        sqlx::Error::Configuration(c) => (
            format!("invalid connection URL: {c}"),
            "write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into(),
        ),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => (
                format!("authentication failed ({})", db.message()),
                format!("check the user and password in the URL (the password is never shown); {WHERE_TO_FIX}"),
            ),
            Some("3D000") => (
                db.message().to_string(),
                "create the database first (createdb NAME) or fix its name in the URL".into(),
            ),
            Some("53300") => (
                db.message().to_string(),
                "the server has no free connections; retry later or raise max_connections".into(),
            ),
            _ => (db.message().to_string(), WHERE_TO_FIX.into()),
        },
        other => (other.to_string(), WHERE_TO_FIX.into()),
    }
}

fn migrate_hint(e: &MigrateError) -> String {
    match e {
        MigrateError::VersionMissing(v) => format!(
            "the database has migration {v}, which this build does not know: it was written by a newer \
             yardstick; upgrade yardstick or use another database"
        ),
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} in the database differs from this build's: the schema was changed after release; \
             use a fresh database or the yardstick build that created this one"
        ),
        MigrateError::Dirty(v) => {
            format!("migration {v} failed part-way earlier; restore the database from a backup or start a fresh one")
        }
        other => format!("{other}; is this a yardstick database (and writable)?"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let p = |s| parse_target(s).unwrap();
        assert_eq!(
            p("data/y.db"),
            Target::Sqlite {
                path: Some("data/y.db".into()),
                params: None
            }
        );
        assert_eq!(
            p("sqlite:y.db"),
            Target::Sqlite {
                path: Some("y.db".into()),
                params: None
            }
        );
        assert_eq!(
            p("sqlite://y.db"),
            Target::Sqlite {
                path: Some("y.db".into()),
                params: None
            }
        );
        assert_eq!(
            p("sqlite:////tmp/x.db"),
            Target::Sqlite {
                path: Some("//tmp/x.db".into()),
                params: None
            }
        );
        assert_eq!(
            p("sqlite:///tmp/a%20b.db"),
            Target::Sqlite {
                path: Some("/tmp/a b.db".into()),
                params: None
            }
        );
        assert_eq!(
            p("sqlite://y.db?mode=rw"),
            Target::Sqlite {
                path: Some("y.db".into()),
                params: Some("mode=rw".into())
            }
        );
        assert_eq!(
            p("sqlite::memory:"),
            Target::Sqlite {
                path: None,
                params: None
            }
        );
        match p("postgres://me:secret@db.example:6543/yard") {
            Target::Postgres { display, .. } => {
                assert_eq!(display, "db.example:6543, database `yard`");
            }
            other => panic!("{other:?}"),
        }
        match p("postgresql://me@localhost") {
            Target::Postgres { display, .. } => {
                assert_eq!(display, "localhost:5432, database `me`")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unsupported_schemes_do_not_echo_credentials() {
        let e = parse_target("mysql://root:hunter2@h/db")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "unsupported database URL `mysql://…` — use a SQLite file path (or sqlite://PATH) or a \
             postgres:// URL; check --db / database in yardstick.toml"
        );
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse_target("postgres://u:hunter2@[::1/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
