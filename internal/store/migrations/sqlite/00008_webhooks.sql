-- +goose Up
-- A practice's outbound webhook endpoints. The signing secret is sealed
-- with the note keys (secret_key_id names the key), bound to the endpoint's
-- ID; it is shown once, when the endpoint is created.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL REFERENCES practices (id),
    url             TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description     TEXT,
    event_types     TEXT NOT NULL,
    secret_key_id   TEXT NOT NULL,
    secret_sealed   BLOB NOT NULL,
    disabled_at     DATETIME,
    disabled_reason TEXT,
    created_by      TEXT NOT NULL REFERENCES users (id),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (practice_id, id)
);

-- One event for one endpoint: what is sent (payload, with IDs and minimal
-- fields only) and how its delivery went. Deleting an endpoint deletes its
-- deliveries.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    response_code   INTEGER,
    last_error      TEXT,
    last_attempt_at DATETIME,
    delivered_at    DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    FOREIGN KEY (practice_id, endpoint_id) REFERENCES webhook_endpoints (practice_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (practice_id, endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
