-- Snapshots of the engine's derived state (issue 3): start-up loads the
-- newest one and replays only the log after it. A cache: UNLOGGED (no WAL
-- for gigabytes that a crash may lose: the log is replayed then), chunks
-- stored without compression. Times are unix nanoseconds. Keep in step with
-- internal/store/sqlite/migrations.
CREATE UNLOGGED TABLE snapshots (
    id         BIGINT PRIMARY KEY,
    format     INTEGER NOT NULL,
    seq        BIGINT NOT NULL,
    change     BIGINT NOT NULL,
    versions   TEXT NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE UNLOGGED TABLE snapshot_chunks (
    snapshot BIGINT NOT NULL,
    n        INTEGER NOT NULL,
    data     BYTEA NOT NULL,
    PRIMARY KEY (snapshot, n)
);

ALTER TABLE snapshot_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
