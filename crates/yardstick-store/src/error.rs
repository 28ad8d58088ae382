use crate::Backend;

/// Everything that can go wrong in the store. Each message says what failed and,
/// where the user can act, what to do; none ever contains a password.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("cannot connect to {backend} at {target}: {reason} — {hint}")]
    Connect {
        backend: Backend,
        /// Where we tried, without credentials (`127.0.0.1:5432, database test`
        /// or a file path).
        target: String,
        /// What went wrong, in a few words.
        reason: String,
        /// What the user can do about it.
        hint: String,
        #[source]
        source: Option<sqlx::Error>,
    },

    /// The location names a database kind yardstick does not support.
    #[error(
        "unsupported database URL `{scheme}://…` — use a SQLite file path (or sqlite://PATH) or a \
         postgres:// URL; check --db / database in yardstick.toml"
    )]
    UnsupportedUrl { scheme: String },

    /// The schema could not be brought up to date.
    #[error("cannot apply the {backend} schema migrations at {target}: {hint}")]
    Migrate {
        backend: Backend,
        target: String,
        hint: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// A statement failed; `what` names the operation and its arguments.
    #[error("database error while {what}")]
    Query {
        what: String,
        #[source]
        source: sqlx::Error,
    },

    /// A stored value cannot be read back as the type it was written as
    /// (a hand-edited row, or a database written by a newer yardstick).
    #[error("stored data is corrupt: {what}")]
    Corrupt { what: String },

    /// A value given to the store cannot be stored (e.g. a u64 above i64::MAX).
    #[error("cannot store {what}")]
    Invalid { what: String },

    /// The row an operation refers to does not exist.
    #[error("{what} not found")]
    NotFound { what: String },

    /// A reading command was pointed at a SQLite file that does not exist.
    #[error("no database at {path} — `yardstick run` creates one; or point --db / database in yardstick.toml at an existing one")]
    NoDatabase { path: std::path::PathBuf },
}

/// Shorthand used by every query: wraps a sqlx error with the operation's name.
/// The conversion to `String` happens only on failure, so hot paths pass a
/// `&'static str` at no cost.
pub(crate) fn query_err<S: Into<String>>(what: S) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query {
        what: what.into(),
        source,
    }
}
