-- +goose Up
-- Every e-mail Tandem queues, and how sending it went: the delivery log
-- staff and clients read (never the message itself). The key is the
-- e-mail's idempotency key (what it is about and which occurrence): a row
-- is written in the transaction that queues the e-mail, and an e-mail whose
-- key is here already is not queued again, however long ago it went out.
-- practice_id and client_id name the practice and client the e-mail is
-- about, where it is about one; user_id the recipient's account, where they
-- have one. Rows older than the log's retention are deleted by a periodic job.
CREATE TABLE mail_deliveries (
    id           TEXT PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 500),
    kind         TEXT NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    practice_id  TEXT REFERENCES practices (id),
    client_id    TEXT,
    user_id      TEXT,
    recipient    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    send_after   DATETIME NOT NULL,
    sent_at      DATETIME,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX mail_deliveries_practice_idx ON mail_deliveries (practice_id, id) WHERE practice_id IS NOT NULL;
CREATE INDEX mail_deliveries_client_idx ON mail_deliveries (client_id, id) WHERE client_id IS NOT NULL;
CREATE INDEX mail_deliveries_user_idx ON mail_deliveries (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX mail_deliveries_recipient_idx ON mail_deliveries (recipient, id);
CREATE INDEX mail_deliveries_created_idx ON mail_deliveries (created_at);

-- Who wrote a moment ago, for PostgreSQL's read replica (store.MarkWriter).
-- SQLite has no replica and nothing writes it; the table keeps the schemas alike.
CREATE TABLE recent_writers (
    user_id TEXT PRIMARY KEY,
    until   DATETIME NOT NULL
);

-- +goose Down
DROP TABLE recent_writers;
DROP TABLE mail_deliveries;
