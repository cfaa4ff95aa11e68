-- +goose Up
-- On SQLite one process serves, and keeps its budgets and back-offs in
-- memory (internal/ratelimit). The tables exist so that both databases
-- carry the same migrations and the same schema; nothing writes them here.
CREATE TABLE rate_limits (
    scope    TEXT    NOT NULL,
    key_hash TEXT    NOT NULL,
    tat      INTEGER NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE TABLE failure_counts (
    scope    TEXT    NOT NULL,
    key_hash TEXT    NOT NULL,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    until_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key_hash)
);

-- +goose Down
DROP TABLE failure_counts;
DROP TABLE rate_limits;
