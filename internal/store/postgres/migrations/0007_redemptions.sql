-- Rewards redemptions (issue 5): requests to exchange points for a catalog
-- reward, a recorded manual action. Times are unix nanoseconds. member is ''
-- for a partner reward. Keep in step with the other store's folder.
CREATE TABLE redemptions (
    id           TEXT PRIMARY KEY,
    reward       TEXT NOT NULL,
    partner      TEXT NOT NULL,
    member       TEXT NOT NULL,
    points       BIGINT NOT NULL CHECK (points > 0),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'fulfilled', 'rejected')),
    requested_at BIGINT NOT NULL,
    requested_by TEXT NOT NULL,
    decided_at   BIGINT,
    decided_by   TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX redemptions_partner ON redemptions (partner, status);
CREATE INDEX redemptions_reward ON redemptions (reward, status);
CREATE INDEX redemptions_requested ON redemptions (requested_at, id);
