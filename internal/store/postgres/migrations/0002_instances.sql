-- Rung schema, version 2 (PostgreSQL): several instances on one database.
-- Keep the numbers of this folder in step with internal/store/sqlite/migrations.

-- The change feed: one row per fact written outside the event log (partner
-- versions, member upserts, program versions, adjustments, API keys), in
-- the fact's own transaction. Seqs are handed out under the event log's
-- advisory lock, so they follow commit order and have no gaps: an instance
-- that has read up to seq n never later finds a change below n.
CREATE TABLE changes (
    seq  BIGINT PRIMARY KEY,
    kind TEXT   NOT NULL,
    key  TEXT   NOT NULL
);

-- One row per scheduled job and period (unix nanoseconds of the period's
-- start): the key that makes a period's run happen once across instances.
-- finished is NULL while running, after a failure (error says why), or when
-- the runner died.
CREATE TABLE job_runs (
    job      TEXT   NOT NULL,
    period   BIGINT NOT NULL,
    instance TEXT   NOT NULL,
    started  BIGINT,
    finished BIGINT,
    error    TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (job, period)
);
