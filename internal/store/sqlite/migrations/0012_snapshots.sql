-- Snapshots of the engine's derived state (issue 3): start-up loads the
-- newest one and replays only the log after it. A cache: losing one costs
-- a replay. Times are unix nanoseconds. Keep in step with
-- internal/store/postgres/migrations.
CREATE TABLE snapshots (
    id         INTEGER PRIMARY KEY,
    format     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    change     INTEGER NOT NULL,
    versions   TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE snapshot_chunks (
    snapshot INTEGER NOT NULL,
    n        INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (snapshot, n)
);
