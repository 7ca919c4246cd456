-- Rung schema, version 2 (SQLite): the change feed and job runs, as on
-- PostgreSQL. One process uses a SQLite database, so nobody follows the
-- feed here; it is kept so both stores pass one suite and `rung copy`
-- finds the same tables. Keep the numbers of this folder in step with
-- internal/store/postgres/migrations.

CREATE TABLE changes (
    seq  INTEGER PRIMARY KEY,
    kind TEXT    NOT NULL,
    key  TEXT    NOT NULL
);

CREATE TABLE job_runs (
    job      TEXT    NOT NULL,
    period   INTEGER NOT NULL,
    instance TEXT    NOT NULL,
    started  INTEGER,
    finished INTEGER,
    error    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (job, period)
) WITHOUT ROWID;
