-- Partner tiers (issue 6): the recorded tier actions — published review
-- decisions, overrides, appeals and nudges. body is the action as JSON;
-- at is unix nanoseconds. Keep in step with
-- internal/store/sqlite/migrations.
CREATE TABLE tier_records (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    partner TEXT NOT NULL,
    quarter TEXT NOT NULL,
    state   TEXT NOT NULL,
    at      BIGINT NOT NULL,
    body    BYTEA NOT NULL
);

CREATE INDEX tier_records_kind ON tier_records (kind, at, id COLLATE "C");
