-- Open Badges 3.0 credentials (issue 5): signing keys, issued credentials
-- and the counter that places them in status lists. Times are unix
-- nanoseconds. Keep in step with internal/store/postgres/migrations.

-- seed is the Ed25519 private key seed; keys are never deleted.
CREATE TABLE credential_keys (
    id         TEXT PRIMARY KEY,
    seed       BLOB NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- body is the signed JSON-LD as issued; revoked_at is NULL while valid.
CREATE TABLE credentials (
    id           TEXT PRIMARY KEY,
    award        TEXT NOT NULL UNIQUE,
    status_list  INTEGER NOT NULL,
    status_index INTEGER NOT NULL,
    body         BLOB NOT NULL,
    issued_at    INTEGER NOT NULL,
    revoked_at   INTEGER,
    UNIQUE (status_list, status_index)
) WITHOUT ROWID;

-- One row: the next status list slot.
CREATE TABLE credential_slots (
    id   INTEGER PRIMARY KEY,
    next INTEGER NOT NULL
);
