-- Every call of an LLM judge: on an attempt (grading) or on an entry of
-- the frozen calibration set (attempt_id NULL, calibration_id set).
-- grade_id is the grade the call contributed to; NULL when the judging
-- failed (the answer then stays ungraded) or for calibration calls.
CREATE TABLE judgements (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         BIGINT NOT NULL REFERENCES runs (id),
    attempt_id     BIGINT REFERENCES attempts (id),
    grade_id       BIGINT REFERENCES grades (id),
    calibration_id TEXT,
    judge          TEXT   NOT NULL,
    judge_model    TEXT   NOT NULL,
    response_model TEXT,
    fallback       BIGINT NOT NULL,
    sample         BIGINT NOT NULL,
    retry          BIGINT NOT NULL,
    sample_order   TEXT   NOT NULL,
    prompt         TEXT   NOT NULL,
    raw_output     TEXT,
    scores_json    TEXT,
    error_class    TEXT,
    error_message  TEXT,
    latency_ms     BIGINT NOT NULL,
    input_tokens   BIGINT NOT NULL,
    output_tokens  BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE INDEX judgements_run_id ON judgements (run_id);
CREATE INDEX judgements_attempt_id ON judgements (attempt_id);

-- One judge's check in one run: its calibration drift against the frozen
-- set, and the run's models of its own family. Appended each time the
-- judges are checked (a regrade checks again); the newest row per judge counts.
CREATE TABLE run_judges (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id             BIGINT NOT NULL REFERENCES runs (id),
    judge              TEXT   NOT NULL,
    judge_model        TEXT   NOT NULL,
    family             TEXT,
    fallback           BIGINT NOT NULL,
    same_family_json   TEXT   NOT NULL,
    drift              DOUBLE PRECISION,
    drift_threshold    DOUBLE PRECISION NOT NULL,
    calibration_scored BIGINT NOT NULL,
    calibration_failed BIGINT NOT NULL,
    unreliable         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE INDEX run_judges_run_id ON run_judges (run_id);
