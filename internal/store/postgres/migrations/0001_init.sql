-- Rung schema, version 1 (PostgreSQL). Times are unix nanoseconds (BIGINT),
-- NULL for "none": timestamptz would drop the nanoseconds. Keep the numbers
-- of this folder in step with internal/store/sqlite/migrations.

-- The event log, append-only. body is the binary record (internal/store
-- codec). Unlike SQLite, several instances may write here, so (id, version)
-- is unique in the database itself.
CREATE TABLE events (
    seq     BIGSERIAL PRIMARY KEY,
    id      TEXT    NOT NULL,
    version INTEGER NOT NULL,
    body    BYTEA   NOT NULL,
    UNIQUE (id, version)
);

-- Every PUT of a partner is kept: cohorts use the version in effect when a
-- window starts. body is the rung.Partner as JSON.
CREATE TABLE partner_versions (
    id         TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    valid_from BIGINT,
    body       JSONB   NOT NULL,
    PRIMARY KEY (id, version)
);

-- body is the rung.Member as JSON, memberships included.
CREATE TABLE members (
    id   TEXT PRIMARY KEY,
    body JSONB NOT NULL
);

CREATE TABLE programs (
    version        INTEGER PRIMARY KEY,
    source         TEXT    NOT NULL,
    effective_from BIGINT,
    applied_at     BIGINT,
    applied_by     TEXT    NOT NULL
);

CREATE TABLE adjustments (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    partner     TEXT   NOT NULL,
    member      TEXT   NOT NULL,
    points      BIGINT NOT NULL,
    reason      TEXT   NOT NULL,
    occurred_at BIGINT,
    by          TEXT   NOT NULL,
    created_at  BIGINT
);

CREATE TABLE audit (
    id     BIGSERIAL PRIMARY KEY,
    at     BIGINT,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_target ON audit (target, id);

CREATE TABLE api_keys (
    id         TEXT  PRIMARY KEY,
    hash       BYTEA NOT NULL UNIQUE,
    name       TEXT  NOT NULL,
    scope      TEXT  NOT NULL,
    created_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
