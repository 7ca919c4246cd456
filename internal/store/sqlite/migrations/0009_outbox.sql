-- The transactional outbox: messages for webhooks and CRM write-back
-- (issue 8), their deliveries per endpoint, the webhook subscriptions and
-- the producer's cursor. Times are unix nanoseconds. Keep in step with the
-- other store's folder.

-- One row per message; id is deterministic, so writing it twice is a
-- no-op. dispatched is 1 once a delivery row exists for every endpoint
-- that wants the message.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    subject    TEXT NOT NULL,
    type       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    dispatched INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_undispatched ON outbox (seq) WHERE dispatched = 0;

-- One row per message and endpoint (a subscription id, or crm:hubspot,
-- crm:salesforce): the attempts, the next one, and the outcome. dead is 1
-- once the retry budget is spent, until replayed.
CREATE TABLE outbox_deliveries (
    message         TEXT NOT NULL,
    endpoint        TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    subject         TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    dead            INTEGER NOT NULL,
    last_error      TEXT NOT NULL,
    PRIMARY KEY (message, endpoint)
);
CREATE INDEX outbox_deliveries_pending ON outbox_deliveries (endpoint, subject, seq) WHERE delivered_at IS NULL AND dead = 0;
CREATE INDEX outbox_deliveries_dead ON outbox_deliveries (seq) WHERE dead = 1;

-- Webhook endpoints; types is a JSON array of message types ([]: all).
CREATE TABLE webhook_subscriptions (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    types      TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);

-- The producer's cursor, and the state per subject it last reported, which
-- it compares the engine's state with.
CREATE TABLE outbox_cursors (
    name     TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
CREATE TABLE outbox_subjects (
    subject TEXT PRIMARY KEY,
    state   TEXT NOT NULL
);
