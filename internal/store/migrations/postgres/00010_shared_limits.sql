-- +goose Up
-- The request budgets and sign-in back-offs that every replica shares
-- (internal/ratelimit). UNLOGGED: they are not written to the WAL, so they
-- cost little, are not replicated, and are emptied after a crash, which
-- forgives everyone's recent failures once: a fair price for a budget.
-- Keys are SHA-256 digests of what they count (an address, an account),
-- so no e-mail or IP address is stored. Times are microseconds since the
-- Unix epoch.
--
-- rate_limits holds a token bucket per key as the time its budget is full
-- again (GCRA's theoretical arrival time): a row whose tat is past is a
-- full budget, and is swept.
CREATE UNLOGGED TABLE rate_limits (
    scope    TEXT   NOT NULL,
    key_hash TEXT   NOT NULL,
    tat      BIGINT NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX rate_limits_tat_idx ON rate_limits (tat);

-- failure_counts counts failed attempts per key, and until when the key
-- must wait; a row whose last failure is older than its rule forgets is
-- swept.
CREATE UNLOGGED TABLE failure_counts (
    scope    TEXT    NOT NULL,
    key_hash TEXT    NOT NULL,
    failures INTEGER NOT NULL,
    last_at  BIGINT  NOT NULL,
    until_at BIGINT  NOT NULL,
    PRIMARY KEY (scope, key_hash)
);
CREATE INDEX failure_counts_last_idx ON failure_counts (last_at);

-- +goose Down
DROP TABLE failure_counts;
DROP TABLE rate_limits;
