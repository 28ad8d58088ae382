-- yardstick schema, SQLite flavour. Kept column-for-column identical to
-- migrations/postgres/0001_init.sql: the same queries run on both through
-- sqlx's Any driver, so only types and id generation may differ.
--
-- Conventions: timestamps are INTEGER unix milliseconds; JSON is TEXT; only
-- INTEGER, REAL and TEXT column types are used (the Any driver maps exactly
-- these); unsigned values are stored as INTEGER (runs.seed bit-cast, see
-- NewRun::seed).

-- Models seen by runs: the latest configuration per name.
CREATE TABLE models (
    name       TEXT    NOT NULL PRIMARY KEY,
    provider   TEXT    NOT NULL,
    spec_json  TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Bank items, one row per content version; never updated, so an attempt always
-- finds the exact text it was asked.
CREATE TABLE items (
    item_id      TEXT    NOT NULL,
    version      TEXT    NOT NULL,
    dimension    TEXT    NOT NULL,
    content_json TEXT    NOT NULL,
    first_seen   INTEGER NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- Runs: AUTOINCREMENT so a number is never reused, even after a delete;
-- the id is the public "Run #N".
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    seed        INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    epochs      INTEGER NOT NULL,
    models_json TEXT    NOT NULL,
    config_json TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'complete')),
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);

-- The draw of a run, in order.
CREATE TABLE run_items (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    position INTEGER NOT NULL,
    item_id  TEXT    NOT NULL,
    version  TEXT    NOT NULL,
    PRIMARY KEY (run_id, position),
    FOREIGN KEY (item_id, version) REFERENCES items (item_id, version)
);

-- One model answering one item version in one epoch of one run. Immutable.
-- The unique key's index also serves every (run_id) and (run_id, model)
-- lookup, so no separate index on those columns is kept.
CREATE TABLE attempts (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id         INTEGER NOT NULL REFERENCES runs (id),
    model          TEXT    NOT NULL,
    item_id        TEXT    NOT NULL,
    item_version   TEXT    NOT NULL,
    epoch          INTEGER NOT NULL,
    request_json   TEXT    NOT NULL,
    response_text  TEXT,
    finish_reason  TEXT,
    response_model TEXT,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    latency_ms     INTEGER NOT NULL,
    tries          INTEGER NOT NULL,
    error_class    TEXT,
    error_message  TEXT,
    http_status    INTEGER,
    started_at     INTEGER NOT NULL,
    finished_at    INTEGER NOT NULL,
    UNIQUE (run_id, model, item_version, epoch),
    FOREIGN KEY (item_id, item_version) REFERENCES items (item_id, version)
);

-- Grades of attempts; a regrade appends, the newest row (highest id) counts.
CREATE TABLE grades (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    attempt_id     INTEGER NOT NULL REFERENCES attempts (id),
    grader_id      TEXT    NOT NULL,
    grader_version TEXT    NOT NULL,
    score          REAL    NOT NULL,
    checks_json    TEXT    NOT NULL,
    extracted      TEXT,
    created_at     INTEGER NOT NULL
);

CREATE INDEX grades_attempt_id ON grades (attempt_id);
