-- Rung schema, version 1 (SQLite). Times are unix nanoseconds (INTEGER),
-- NULL for "none". Keep the numbers of this folder in step with
-- internal/store/postgres/migrations.

-- The event log: narrow and append-only. No secondary index on purpose:
-- the single writer dedupes ids in memory, and an index on the random id
-- costs an order of magnitude in insert rate. body is the binary record
-- (internal/store codec).
CREATE TABLE events (
    seq     INTEGER PRIMARY KEY,
    id      TEXT    NOT NULL,
    version INTEGER NOT NULL,
    body    BLOB    NOT NULL
);

-- Every PUT of a partner is kept: cohorts use the version in effect when a
-- window starts. body is the rung.Partner as JSON.
CREATE TABLE partner_versions (
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    valid_from INTEGER,
    body       TEXT    NOT NULL,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- body is the rung.Member as JSON, memberships included.
CREATE TABLE members (
    id   TEXT PRIMARY KEY,
    body TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE programs (
    version        INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    effective_from INTEGER,
    applied_at     INTEGER,
    applied_by     TEXT    NOT NULL
);

CREATE TABLE adjustments (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    partner     TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    points      INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    occurred_at INTEGER,
    by          TEXT    NOT NULL,
    created_at  INTEGER
);

CREATE TABLE audit (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_target ON audit (target, id);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    hash       BLOB NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    created_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
