//! Storage: sqlx over SQLite (default) and PostgreSQL, migrations per backend
