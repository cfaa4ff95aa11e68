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
    id           uuid PRIMARY KEY,
    key          text NOT NULL UNIQUE CHECK (length(key) BETWEEN 1 AND 500),
    kind         text NOT NULL CHECK (length(kind) BETWEEN 1 AND 100),
    practice_id  uuid REFERENCES practices (id),
    client_id    uuid,
    user_id      uuid,
    recipient    text NOT NULL,
    status       text NOT NULL CHECK (status IN ('queued', 'retrying', 'sent', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    send_after   timestamptz NOT NULL,
    sent_at      timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX mail_deliveries_practice_idx ON mail_deliveries (practice_id, id) WHERE practice_id IS NOT NULL;
CREATE INDEX mail_deliveries_client_idx ON mail_deliveries (client_id, id) WHERE client_id IS NOT NULL;
CREATE INDEX mail_deliveries_user_idx ON mail_deliveries (user_id, id) WHERE user_id IS NOT NULL;
CREATE INDEX mail_deliveries_recipient_idx ON mail_deliveries (recipient, id);
CREATE INDEX mail_deliveries_created_idx ON mail_deliveries (created_at);

-- Who wrote a moment ago, so that with a read replica their next reads go
-- to the primary and see what they wrote (store.MarkWriter). UNLOGGED: a
-- crash empties it, which only sends a few reads to the replica early.
CREATE UNLOGGED TABLE recent_writers (
    user_id uuid PRIMARY KEY,
    until   timestamptz NOT NULL
);

-- +goose Down
DROP TABLE recent_writers;
DROP TABLE mail_deliveries;
