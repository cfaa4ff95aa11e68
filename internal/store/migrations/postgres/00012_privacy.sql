-- +goose Up
-- Exports: a request for a ZIP of someone's data, built by a job. The
-- download link's token is kept only as its SHA-256; the link works once,
-- until expires_at. The archive itself is kept in export_chunks, in pieces of
-- a bounded size, so that neither building nor serving it holds the whole
-- file in memory; the pieces are deleted once downloaded or expired.
CREATE TABLE exports (
    id            uuid PRIMARY KEY,
    practice_id   uuid REFERENCES practices (id),
    client_id     uuid,
    requested_by  uuid NOT NULL REFERENCES users (id),
    scope         text NOT NULL CHECK (scope IN ('account', 'client_self', 'client_staff')),
    status        text NOT NULL CHECK (status IN ('pending', 'ready', 'downloaded', 'failed')),
    token_hash    bytea NOT NULL UNIQUE,
    size_bytes    bigint,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    ready_at      timestamptz,
    downloaded_at timestamptz
);
CREATE INDEX exports_requester_idx ON exports (requested_by, id);
CREATE INDEX exports_client_idx ON exports (practice_id, client_id);

CREATE TABLE export_chunks (
    export_id uuid NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (export_id, seq)
);

-- A client's (or, on their request, the owner's) request to erase the
-- client's record, carried out by a periodic job once due_at has passed,
-- unless cancelled first.
CREATE TABLE erasure_requests (
    id           uuid PRIMARY KEY,
    practice_id  uuid NOT NULL,
    client_id    uuid NOT NULL,
    requested_by uuid NOT NULL REFERENCES users (id),
    status       text NOT NULL CHECK (status IN ('pending', 'cancelled', 'done')),
    requested_at timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    cancelled_at timestamptz,
    executed_at  timestamptz,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE UNIQUE INDEX erasure_requests_pending_idx ON erasure_requests (practice_id, client_id) WHERE status = 'pending';
CREATE INDEX erasure_requests_due_idx ON erasure_requests (due_at) WHERE status = 'pending';

-- An erased client keeps an anonymous row, so that the disclosure log and
-- the audit events that name it still prove who saw what and when.
ALTER TABLE clients ADD COLUMN erased_at timestamptz;

-- History a client brought from another practice: the signed bundle's
-- verified payload, kept read-only beside the record, until the client
-- removes it.
CREATE TABLE history_imports (
    id             uuid PRIMARY KEY,
    practice_id    uuid NOT NULL,
    client_id      uuid NOT NULL,
    imported_by    uuid NOT NULL REFERENCES users (id),
    issuer         text NOT NULL,
    key_id         text NOT NULL,
    practice_name  text,
    issued_at      timestamptz NOT NULL,
    payload        text NOT NULL,
    payload_sha256 text NOT NULL,
    created_at     timestamptz NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX history_imports_client_idx ON history_imports (practice_id, client_id, id);

-- Per-practice retention; a practice without a row has the defaults.
CREATE TABLE retention_settings (
    practice_id           uuid PRIMARY KEY REFERENCES practices (id),
    archived_client_years integer CHECK (archived_client_years BETWEEN 1 AND 50),
    log_years             integer NOT NULL CHECK (log_years BETWEEN 1 AND 100),
    version               bigint NOT NULL DEFAULT 1,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    -- What the retention task last did here (counts, as JSON), for the owner.
    last_run_at           timestamptz,
    last_run_summary      text
);

-- Disclosures and audit events stay append-only, except inside the
-- transaction of an erasure or a retention purge, which inserts a row here
-- first and deletes it before committing: no other transaction ever sees
-- one, so for everything else the tables stay as immutable as before.
CREATE TABLE privacy_purges (
    id     uuid PRIMARY KEY,
    reason text NOT NULL CHECK (reason IN ('erasure', 'retention'))
);

-- +goose StatementBegin
CREATE FUNCTION tandem_append_only_unless_purging() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM privacy_purges) THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tandem_append_only_unless_purging();
DROP TRIGGER disclosures_append_only ON disclosures;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION tandem_append_only_unless_purging();

-- +goose Down
DROP TRIGGER disclosures_append_only ON disclosures;
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION tandem_reject_change();
DROP TRIGGER audit_events_append_only ON audit_events;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tandem_reject_change();
DROP FUNCTION tandem_append_only_unless_purging();
DROP TABLE privacy_purges;
DROP TABLE retention_settings;
DROP TABLE history_imports;
ALTER TABLE clients DROP COLUMN erased_at;
DROP TABLE erasure_requests;
DROP TABLE export_chunks;
DROP TABLE exports;
