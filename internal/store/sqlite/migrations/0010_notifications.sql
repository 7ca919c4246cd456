-- Notifications (issue 8): messages owed to members, partners and the
-- vendor team, and members' preferences about them. Times are unix
-- nanoseconds; data and body are JSON. Keep in step with the other store's
-- folder.

-- sent_at is NULL while the notification is to be sent; read_at NULL while
-- it is unread in the portal.
CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    partner    TEXT NOT NULL,
    member     TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    sent_at    BIGINT,
    read_at    BIGINT,
    channels   TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    last_error TEXT NOT NULL
);
CREATE INDEX notifications_due ON notifications (due_at, id) WHERE sent_at IS NULL;
CREATE INDEX notifications_member ON notifications (member, created_at);

-- One row per member who set preferences.
CREATE TABLE notification_prefs (
    member     TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
