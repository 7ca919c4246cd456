-- Lead and deal registrations, their conflict pairs and the CRM's accounts
-- (issue 7). Times are unix nanoseconds; body is the registration as JSON
-- (store.EncodeRegistration). Keep in step with the other store's folder.

-- active is 1 while status is submitted, needs_info, approved or meeting:
-- a partner holds at most one active registration of a company.
CREATE TABLE registrations (
    id           TEXT PRIMARY KEY,
    partner      TEXT NOT NULL,
    company_key  TEXT NOT NULL,
    company_name TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    active       INTEGER NOT NULL,
    submitted_at BIGINT NOT NULL,
    version      INTEGER NOT NULL,
    body         TEXT NOT NULL
);
CREATE UNIQUE INDEX registrations_active_claim ON registrations (company_key, partner) WHERE active = 1;
CREATE INDEX registrations_company ON registrations (company_key, submitted_at);
CREATE INDEX registrations_partner ON registrations (partner, submitted_at);
CREATE INDEX registrations_submitted ON registrations (submitted_at, id);

-- One row per pair of conflicting registrations: first came before second.
CREATE TABLE registration_conflicts (
    first       TEXT NOT NULL,
    second      TEXT NOT NULL,
    company_key TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    winner      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_at  BIGINT,
    PRIMARY KEY (first, second)
);
CREATE INDEX registration_conflicts_second ON registration_conflicts (second);

-- Companies the CRM knows, by registrable domain.
CREATE TABLE crm_accounts (
    domain     TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    customer   INTEGER NOT NULL,
    open_deal  INTEGER NOT NULL,
    owner      TEXT NOT NULL,
    updated_at BIGINT
);
