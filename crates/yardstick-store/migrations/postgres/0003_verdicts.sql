-- Verdicts, confirmation retests, alerts and item calibrations (issue #6).
-- Column-for-column identical to migrations/sqlite/0003_verdicts.sql.

-- A set of item parameters fitted on a range of history; `id` is its version.
CREATE TABLE calibrations (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_kind    TEXT    NOT NULL,
    first_run   BIGINT  NOT NULL REFERENCES runs (id),
    last_run    BIGINT  NOT NULL REFERENCES runs (id),
    runs        BIGINT  NOT NULL,
    models      BIGINT  NOT NULL,
    responses   BIGINT  NOT NULL,
    method_json TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

-- One item version's fitted parameters within a calibration.
CREATE TABLE calibration_items (
    calibration_id BIGINT  NOT NULL REFERENCES calibrations (id),
    item_id        TEXT    NOT NULL,
    item_version   TEXT    NOT NULL,
    params_json    TEXT    NOT NULL,
    PRIMARY KEY (calibration_id, item_id, item_version),
    FOREIGN KEY (item_id, item_version) REFERENCES items (item_id, version)
);

-- One verdict per run, model and series ('main' or a dimension id).
-- `detected_verdict` is what the detectors said; `verdict` starts equal to it
-- and is revised (with its numbers and explanation) when the retest it
-- scheduled (`retest_id`) decides, whose decision is copied here.
CREATE TABLE verdicts (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              BIGINT  NOT NULL REFERENCES runs (id),
    model               TEXT    NOT NULL,
    series              TEXT    NOT NULL,
    verdict             TEXT    NOT NULL CHECK (verdict IN ('noise', 'watch', 'likely_degradation',
                                                            'confirmed_degradation', 'improvement')),
    detected_verdict    TEXT    NOT NULL CHECK (detected_verdict IN ('noise', 'watch', 'likely_degradation',
                                                                     'confirmed_degradation', 'improvement')),
    numbers_json        TEXT    NOT NULL,
    explanation         TEXT    NOT NULL,
    detector_state_json TEXT    NOT NULL,
    retest_id           BIGINT ,
    retest_decision     TEXT    CHECK (retest_decision IN ('confirm', 'clear', 'undecided')),
    created_at          BIGINT  NOT NULL,
    UNIQUE (run_id, model, series)
);

CREATE INDEX verdicts_model_series ON verdicts (model, series, run_id);

-- A confirmation run scheduled by a verdict: pending until `yardstick retest`
-- takes it, running while its run executes, done with the SPRT's decision.
CREATE TABLE retests (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verdict_id   BIGINT  NOT NULL REFERENCES verdicts (id),
    model        TEXT    NOT NULL,
    series       TEXT    NOT NULL,
    items        BIGINT  NOT NULL,
    epochs       BIGINT  NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    run_id       BIGINT  REFERENCES runs (id),
    decision     TEXT    CHECK (decision IN ('confirm', 'clear', 'undecided')),
    numbers_json TEXT,
    created_at   BIGINT  NOT NULL,
    finished_at  BIGINT 
);

CREATE INDEX retests_status ON retests (status);

-- One webhook delivery of one verdict change. `webhook` is stored redacted
-- (scheme, host and port only): webhook paths are often secrets.
CREATE TABLE alerts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verdict_id   BIGINT  NOT NULL REFERENCES verdicts (id),
    webhook      TEXT    NOT NULL,
    payload_json TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    tries        BIGINT  NOT NULL,
    last_error   TEXT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
