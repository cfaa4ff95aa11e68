-- +goose Up
-- A practice's subscription as Stripe last told it. No row: the practice
-- has never been to checkout, and its trial runs from practices.created_at.
-- state_at is the creation time of the Stripe event that set the state:
-- an older event never overwrites it, whatever order Stripe delivers in.
CREATE TABLE practice_billing (
    practice_id            TEXT PRIMARY KEY REFERENCES practices (id),
    stripe_customer_id     TEXT UNIQUE,
    stripe_subscription_id TEXT,
    plan                   TEXT,
    status                 TEXT,
    current_period_end     DATETIME,
    trial_end              DATETIME,
    past_due_since         DATETIME,
    state_at               DATETIME,
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             DATETIME NOT NULL,
    updated_at             DATETIME NOT NULL
);

-- Every Stripe event handled, by its ID, written in the transaction of its
-- effect: a second delivery finds it and has no effect.
CREATE TABLE stripe_events (
    id           TEXT PRIMARY KEY,
    type         TEXT NOT NULL,
    practice_id  TEXT REFERENCES practices (id),
    created      DATETIME NOT NULL,
    received_at  DATETIME NOT NULL
);

-- +goose Down
DROP TABLE stripe_events;
DROP TABLE practice_billing;
