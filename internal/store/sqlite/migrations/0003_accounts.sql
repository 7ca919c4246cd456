-- Web accounts, sessions and sign-in links (issue 4). Times are unix
-- nanoseconds. Keep in step with internal/store/postgres/migrations.

-- email is '' for accounts without one; partners is a JSON array.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    member        TEXT NOT NULL,
    partners      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    INTEGER,
    disabled_at   INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX accounts_email ON accounts (email) WHERE email <> '';

-- hash is the SHA-256 of the cookie value.
CREATE TABLE sessions (
    hash       BLOB PRIMARY KEY,
    account    TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account);

-- hash is the SHA-256 of the link's token.
CREATE TABLE login_links (
    hash       BLOB PRIMARY KEY,
    account    TEXT NOT NULL,
    created_at INTEGER,
    expires_at INTEGER,
    used_at    INTEGER
) WITHOUT ROWID;
