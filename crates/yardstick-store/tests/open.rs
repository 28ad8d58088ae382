//! Opening databases: backends, SQLite settings, and the messages users see
//! when the location is wrong.

mod common;

use yardstick_store::{Backend, Store, StoreError};

#[tokio::test]
async fn unreachable_postgres_says_where_and_what_to_do() {
    let err = Store::open("postgres://postgres@127.0.0.1:1/test")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::Connect {
                backend: Backend::Postgres,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        text,
        "cannot connect to PostgreSQL at 127.0.0.1:1, database `test`: connection refused — is the server \
         running and listening on that port? check --db / database in yardstick.toml"
    );
}

#[tokio::test]
async fn passwords_never_appear_in_errors() {
    let err = Store::open("postgres://postgres:hunter2@127.0.0.1:1/test")
        .await
        .unwrap_err();
    let text = format!("{err} / {err:?}");
    assert!(!text.contains("hunter2"), "{text}");
    // A wrong password on the real server: the message names the cause, not the secret.
    let mut url = url::Url::parse(&common::pg_url()).unwrap();
    url.set_username("no_such_user_ys").unwrap();
    url.set_password(Some("hunter2")).unwrap();
    let err = Store::open(url.as_str()).await.unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.starts_with("cannot connect to PostgreSQL at"),
        "{text}"
    );
}

#[tokio::test]
async fn missing_database_on_the_server_is_explained() {
    let mut url = url::Url::parse(&common::pg_url()).unwrap();
    url.set_path("/ys_no_such_database");
    let text = Store::open(url.as_str()).await.unwrap_err().to_string();
    assert!(text.contains("database `ys_no_such_database`"), "{text}");
    assert!(text.contains("createdb"), "{text}");
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no").join("such");
    let path = missing.join("y.db");
    for url in [
        path.display().to_string(),
        format!("sqlite://{}", path.display()),
    ] {
        let err = Store::open(&url).await.unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Connect {
                    backend: Backend::Sqlite,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "cannot connect to SQLite at {}: directory {} does not exist — create it first (mkdir -p {}) \
                 or check --db / database in yardstick.toml",
                path.display(),
                missing.display(),
                missing.display()
            )
        );
    }
    assert!(!missing.exists(), "nothing was created");
}

#[tokio::test]
async fn sqlite_refuses_a_directory_and_foreign_schemes() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(&dir.path().display().to_string())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("that is a directory"), "{err}");
    let err = Store::open("mysql://root:pw@localhost/db")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unsupported database URL `mysql://…`") && !err.contains("pw@"),
        "{err}"
    );
}

#[tokio::test]
async fn sqlite_file_is_created_with_wal() {
    let dir = tempfile::tempdir().unwrap();
    // A name that needs escaping in a URL, opened as a plain path.
    let path = dir.path().join("my data #1 100%.db");
    let store = Store::open(&path.display().to_string()).await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    assert_eq!(store.location(), path.display().to_string());
    assert!(path.exists(), "the file is created where asked");
    store.create_run(&common::new_run("smoke")).await.unwrap();
    // Under WAL a write goes to the -wal file first.
    let wal = dir.path().join("my data #1 100%.db-wal");
    assert!(wal.exists(), "journal_mode=WAL: expected {}", wal.display());
    store.close().await;
    // The URL spelling of the same path reaches the same database.
    let again = Store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert_eq!(again.list_runs(5).await.unwrap().len(), 1);
}

#[tokio::test]
async fn sqlite_in_memory_works() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let a = store.create_run(&common::new_run("smoke")).await.unwrap();
    let b = store.create_run(&common::new_run("smoke")).await.unwrap();
    assert_eq!((a, b), (1, 2));
    assert_eq!(store.list_runs(10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn postgres_location_hides_the_password() {
    let db = common::TestDb::postgres().await;
    assert_eq!(db.store.backend(), Backend::Postgres);
    assert!(
        db.store.location().contains(", database `"),
        "{}",
        db.store.location()
    );
}
