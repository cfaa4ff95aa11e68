-- +goose Up
-- A practice's subscription as Stripe last told it. No row: the practice
-- has never been to checkout, and its trial runs from practices.created_at.
-- state_at is the creation time of the Stripe event that set the state:
-- an older event never overwrites it, whatever order Stripe delivers in.
CREATE TABLE practice_billing (
    practice_id            uuid PRIMARY KEY REFERENCES practices (id),
    stripe_customer_id     text UNIQUE,
    stripe_subscription_id text,
    plan                   text,
    status                 text,
    current_period_end     timestamptz,
    trial_end              timestamptz,
    past_due_since         timestamptz,
    state_at               timestamptz,
    version                bigint NOT NULL DEFAULT 1,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL
);

-- Every Stripe event handled, by its ID, written in the transaction of its
-- effect: a second delivery finds it and has no effect.
CREATE TABLE stripe_events (
    id           text PRIMARY KEY,
    type         text NOT NULL,
    practice_id  uuid REFERENCES practices (id),
    created      timestamptz NOT NULL,
    received_at  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE stripe_events;
DROP TABLE practice_billing;
