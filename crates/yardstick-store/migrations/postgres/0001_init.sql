-- yardstick schema, PostgreSQL flavour. Kept column-for-column identical to
-- migrations/sqlite/0001_init.sql: the same queries run on both through sqlx's
-- Any driver, so only types and id generation may differ.
--
-- Conventions: timestamps are BIGINT unix milliseconds; JSON is TEXT; every
-- integer is BIGINT (the Any driver binds i64, and one width avoids casts);
-- scores are DOUBLE PRECISION; unsigned values are stored as BIGINT
-- (runs.seed bit-cast, see NewRun::seed).

-- Models seen by runs: the latest configuration per name.
CREATE TABLE models (
    name       TEXT   NOT NULL PRIMARY KEY,
    provider   TEXT   NOT NULL,
    spec_json  TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Bank items, one row per content version; never updated, so an attempt always
-- finds the exact text it was asked.
CREATE TABLE items (
    item_id      TEXT   NOT NULL,
    version      TEXT   NOT NULL,
    dimension    TEXT   NOT NULL,
    content_json TEXT   NOT NULL,
    first_seen   BIGINT NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- Runs: an identity column is the global counter behind "Run #N".
CREATE TABLE runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT   NOT NULL,
    seed        BIGINT NOT NULL,
    label       TEXT   NOT NULL,
    epochs      BIGINT NOT NULL,
    models_json TEXT   NOT NULL,
    config_json TEXT   NOT NULL,
    status      TEXT   NOT NULL CHECK (status IN ('running', 'complete')),
    created_at  BIGINT NOT NULL,
    finished_at BIGINT
);

-- The draw of a run, in order.
CREATE TABLE run_items (
    run_id   BIGINT NOT NULL REFERENCES runs (id),
    position BIGINT NOT NULL,
    item_id  TEXT   NOT NULL,
    version  TEXT   NOT NULL,
    PRIMARY KEY (run_id, position),
    FOREIGN KEY (item_id, version) REFERENCES items (item_id, version)
);

-- One model answering one item version in one epoch of one run. Immutable.
-- The unique key's index also serves every (run_id) and (run_id, model)
-- lookup, so no separate index on those columns is kept.
CREATE TABLE attempts (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         BIGINT NOT NULL REFERENCES runs (id),
    model          TEXT   NOT NULL,
    item_id        TEXT   NOT NULL,
    item_version   TEXT   NOT NULL,
    epoch          BIGINT NOT NULL,
    request_json   TEXT   NOT NULL,
    response_text  TEXT,
    finish_reason  TEXT,
    response_model TEXT,
    input_tokens   BIGINT NOT NULL,
    output_tokens  BIGINT NOT NULL,
    latency_ms     BIGINT NOT NULL,
    tries          BIGINT NOT NULL,
    error_class    TEXT,
    error_message  TEXT,
    http_status    BIGINT,
    started_at     BIGINT NOT NULL,
    finished_at    BIGINT NOT NULL,
    UNIQUE (run_id, model, item_version, epoch),
    FOREIGN KEY (item_id, item_version) REFERENCES items (item_id, version)
);

-- Grades of attempts; a regrade appends, the newest row (highest id) counts.
CREATE TABLE grades (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    attempt_id     BIGINT NOT NULL REFERENCES attempts (id),
    grader_id      TEXT   NOT NULL,
    grader_version TEXT   NOT NULL,
    score          DOUBLE PRECISION NOT NULL,
    checks_json    TEXT   NOT NULL,
    extracted      TEXT,
    created_at     BIGINT NOT NULL
);

CREATE INDEX grades_attempt_id ON grades (attempt_id);
