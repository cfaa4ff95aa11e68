-- +goose Up
-- See the PostgreSQL migration of the same number for what each table is.
CREATE TABLE exports (
    id            TEXT PRIMARY KEY,
    practice_id   TEXT REFERENCES practices (id),
    client_id     TEXT,
    requested_by  TEXT NOT NULL REFERENCES users (id),
    scope         TEXT NOT NULL CHECK (scope IN ('account', 'client_self', 'client_staff')),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'downloaded', 'failed')),
    token_hash    BLOB NOT NULL UNIQUE,
    size_bytes    INTEGER,
    expires_at    DATETIME NOT NULL,
    created_at    DATETIME NOT NULL,
    ready_at      DATETIME,
    downloaded_at DATETIME
);
CREATE INDEX exports_requester_idx ON exports (requested_by, id);
CREATE INDEX exports_client_idx ON exports (practice_id, client_id);

CREATE TABLE export_chunks (
    export_id TEXT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (export_id, seq)
);

CREATE TABLE erasure_requests (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users (id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'cancelled', 'done')),
    requested_at DATETIME NOT NULL,
    due_at       DATETIME NOT NULL,
    cancelled_at DATETIME,
    executed_at  DATETIME,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE UNIQUE INDEX erasure_requests_pending_idx ON erasure_requests (practice_id, client_id) WHERE status = 'pending';
CREATE INDEX erasure_requests_due_idx ON erasure_requests (due_at) WHERE status = 'pending';

ALTER TABLE clients ADD COLUMN erased_at DATETIME;

-- History a client brought from another practice: the signed bundle's
-- verified payload, kept read-only beside the record, until the client
-- removes it.
CREATE TABLE history_imports (
    id             TEXT PRIMARY KEY,
    practice_id    TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    imported_by    TEXT NOT NULL REFERENCES users (id),
    issuer         TEXT NOT NULL,
    key_id         TEXT NOT NULL,
    practice_name  TEXT,
    issued_at      DATETIME NOT NULL,
    payload        TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    created_at     DATETIME NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX history_imports_client_idx ON history_imports (practice_id, client_id, id);

CREATE TABLE retention_settings (
    practice_id           TEXT PRIMARY KEY REFERENCES practices (id),
    archived_client_years INTEGER CHECK (archived_client_years BETWEEN 1 AND 50),
    log_years             INTEGER NOT NULL CHECK (log_years BETWEEN 1 AND 100),
    version               INTEGER NOT NULL DEFAULT 1,
    created_at            DATETIME NOT NULL,
    updated_at            DATETIME NOT NULL,
    -- What the retention task last did here (counts, as JSON), for the owner.
    last_run_at           DATETIME,
    last_run_summary      TEXT
);

CREATE TABLE privacy_purges (
    id     TEXT PRIMARY KEY,
    reason TEXT NOT NULL CHECK (reason IN ('erasure', 'retention'))
);

DROP TRIGGER audit_events_no_update;
DROP TRIGGER audit_events_no_delete;
DROP TRIGGER disclosures_no_update;
DROP TRIGGER disclosures_no_delete;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events WHEN NOT EXISTS (SELECT 1 FROM privacy_purges)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events WHEN NOT EXISTS (SELECT 1 FROM privacy_purges)
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures WHEN NOT EXISTS (SELECT 1 FROM privacy_purges)
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures WHEN NOT EXISTS (SELECT 1 FROM privacy_purges)
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;

-- +goose Down
DROP TRIGGER audit_events_no_update;
DROP TRIGGER audit_events_no_delete;
DROP TRIGGER disclosures_no_update;
DROP TRIGGER disclosures_no_delete;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;
DROP TABLE privacy_purges;
DROP TABLE retention_settings;
DROP TABLE history_imports;
ALTER TABLE clients DROP COLUMN erased_at;
DROP TABLE erasure_requests;
DROP TABLE export_chunks;
DROP TABLE exports;
