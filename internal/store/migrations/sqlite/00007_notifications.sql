-- +goose Up
-- What each person wants to hear from Tandem, and when. A person without a
-- row has the defaults (every kind on, the digest at 07:00, no quiet
-- hours, a budget of 7 nudges a week); the row is written on their first
-- change. Hours and minutes are local to the person's time zone, as
-- minutes after midnight.
CREATE TABLE notification_preferences (
    user_id              TEXT PRIMARY KEY REFERENCES users (id),
    daily_digest         BOOLEAN NOT NULL,
    session_reminders    BOOLEAN NOT NULL,
    consent_reminders    BOOLEAN NOT NULL,
    weekly_summary       BOOLEAN NOT NULL,
    digest_hour          INTEGER NOT NULL CHECK (digest_hour BETWEEN 0 AND 23),
    quiet_start_minute   INTEGER CHECK (quiet_start_minute BETWEEN 0 AND 1439),
    quiet_end_minute     INTEGER CHECK (quiet_end_minute BETWEEN 0 AND 1439),
    weekly_nudge_budget  INTEGER NOT NULL CHECK (weekly_nudge_budget BETWEEN 0 AND 21),
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           DATETIME NOT NULL,
    updated_at           DATETIME NOT NULL,
    CHECK ((quiet_start_minute IS NULL) = (quiet_end_minute IS NULL))
);

-- When each client's next morning digest is due (UTC), kept by the
-- periodic job that enqueues digests: it reads the due rows in batches by
-- this index, and moves each past the digest it enqueued in the same
-- transaction, so a retried or second run finds nothing left to send.
-- nudges counts the digests sent in the ISO week starting week_start
-- (local), against the weekly budget.
CREATE TABLE digest_schedule (
    user_id      TEXT PRIMARY KEY REFERENCES users (id),
    next_at      DATETIME NOT NULL,
    last_date    DATE,
    week_start   DATE,
    nudges       INTEGER NOT NULL DEFAULT 0,
    updated_at   DATETIME NOT NULL
);
CREATE INDEX digest_schedule_next_idx ON digest_schedule (next_at, user_id);

-- The digest job finds portal clients by account.
CREATE INDEX clients_portal_idx ON clients (user_id, status) WHERE user_id IS NOT NULL;

-- How far each reminder task has looked ahead (e.g. sessions starting
-- up to 24 hours from its last run): the next run takes what came into
-- its window since, so that a run missed while no process led is made up,
-- and nothing falls between two runs or is taken twice.
CREATE TABLE notify_cursors (
    name  TEXT PRIMARY KEY,
    covered_until DATETIME NOT NULL
);

-- Session reminders read the scheduled sessions starting in a window.
CREATE INDEX coaching_sessions_starts_idx ON coaching_sessions (starts_at) WHERE status = 'scheduled';

-- Consent reminders read the consents ending in a window.
CREATE INDEX consents_expires_idx ON consents (expires_at) WHERE status IN ('active', 'pending');

-- +goose Down
DROP INDEX consents_expires_idx;
DROP INDEX coaching_sessions_starts_idx;
DROP TABLE notify_cursors;
DROP INDEX clients_portal_idx;
DROP TABLE digest_schedule;
DROP TABLE notification_preferences;
