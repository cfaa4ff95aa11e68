-- +goose Up
-- A practice's outbound webhook endpoints. The signing secret is sealed
-- with the note keys (secret_key_id names the key), bound to the endpoint's
-- ID; it is shown once, when the endpoint is created.
CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    practice_id     uuid NOT NULL REFERENCES practices (id),
    url             text NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description     text,
    event_types     text NOT NULL,
    secret_key_id   text NOT NULL,
    secret_sealed   bytea NOT NULL,
    disabled_at     timestamptz,
    disabled_reason text,
    created_by      uuid NOT NULL REFERENCES users (id),
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (practice_id, id)
);

-- One event for one endpoint: what is sent (payload, with IDs and minimal
-- fields only) and how its delivery went. Deleting an endpoint deletes its
-- deliveries.
CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    practice_id     uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    event_type      text NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    response_code   integer,
    last_error      text,
    last_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    FOREIGN KEY (practice_id, endpoint_id) REFERENCES webhook_endpoints (practice_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (practice_id, endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
