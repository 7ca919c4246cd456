-- Source deliveries (issue 8): what HubSpot, Salesforce, webhooks and CSV
-- imports sent, kept so a rejected one can be replayed after the program's
-- mapping is fixed. Times are unix nanoseconds. Keep in step with
-- internal/store/postgres/migrations.

-- headers is a JSON object of the headers its signature covers.
CREATE TABLE source_deliveries (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    method      TEXT NOT NULL,
    uri         TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    events      INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX source_deliveries_status ON source_deliveries (status, received_at);

-- The last known fields of each CRM record a source reported, so that a
-- change carrying only the fields that changed (a HubSpot property change,
-- a CDC update) is read with the rest of the record. fields is a JSON
-- object of {"v": value, "at": version} by field name.
CREATE TABLE source_records (
    source     TEXT NOT NULL,
    object     TEXT NOT NULL,
    record     TEXT NOT NULL,
    fields     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, object, record)
) WITHOUT ROWID;
