-- +goose Up
-- btree_gist lets one exclusion constraint mix equality on a uuid with
-- overlap on a time range (no double-booked coach).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE clients (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES practices (id),
    coach_id    uuid NOT NULL,
    user_id     uuid REFERENCES users (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text CHECK (email = lower(email)),
    phone       text,
    timezone    text NOT NULL,
    status      text NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    version     bigint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    archived_at timestamptz,
    UNIQUE (practice_id, id),
    UNIQUE (practice_id, user_id),
    FOREIGN KEY (practice_id, coach_id) REFERENCES memberships (practice_id, user_id)
);
CREATE INDEX clients_coach_idx ON clients (practice_id, coach_id, status, id);
CREATE INDEX clients_user_idx ON clients (user_id);

CREATE TABLE client_invitations (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL,
    client_id   uuid NOT NULL,
    email       text NOT NULL CHECK (email = lower(email)),
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid NOT NULL REFERENCES users (id),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id),
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX client_invitations_client_idx ON client_invitations (practice_id, client_id);

CREATE TABLE goals (
    id              uuid PRIMARY KEY,
    practice_id     uuid NOT NULL,
    client_id       uuid NOT NULL,
    title           text NOT NULL,
    description     text,
    why             text NOT NULL,
    target_date     date,
    status          text NOT NULL CHECK (status IN ('active', 'achieved', 'released')),
    metric_unit     text,
    metric_baseline double precision,
    metric_target   double precision,
    created_by      uuid NOT NULL REFERENCES users (id),
    version         bigint NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (practice_id, id),
    UNIQUE (practice_id, client_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    CHECK ((metric_unit IS NULL) = (metric_baseline IS NULL) AND (metric_unit IS NULL) = (metric_target IS NULL))
);
CREATE INDEX goals_client_idx ON goals (practice_id, client_id, status, id);

CREATE TABLE goal_progress (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL,
    goal_id     uuid NOT NULL,
    recorded_on date NOT NULL,
    value       double precision NOT NULL,
    note        text,
    created_by  uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (practice_id, goal_id) REFERENCES goals (practice_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_progress_goal_idx ON goal_progress (goal_id, recorded_on, id);

-- A step belongs to a goal of the same client: the foreign key includes both.
CREATE TABLE action_steps (
    id                 uuid PRIMARY KEY,
    practice_id        uuid NOT NULL,
    client_id          uuid NOT NULL,
    goal_id            uuid NOT NULL,
    title              text NOT NULL,
    details            text,
    due_date           date,
    recurrence         text NOT NULL CHECK (recurrence IN ('none', 'daily', 'weekly')),
    status             text NOT NULL CHECK (status IN ('open', 'done', 'skipped')),
    completed_at       timestamptz,
    reflection         text,
    next_occurrence_id uuid,
    created_by         uuid NOT NULL REFERENCES users (id),
    version            bigint NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id, goal_id) REFERENCES goals (practice_id, client_id, id) ON DELETE CASCADE
);
CREATE INDEX action_steps_client_idx ON action_steps (practice_id, client_id, status, id);
CREATE INDEX action_steps_goal_idx ON action_steps (goal_id, id);

CREATE TABLE coaching_sessions (
    id                      uuid PRIMARY KEY,
    practice_id             uuid NOT NULL,
    client_id               uuid NOT NULL,
    coach_id                uuid NOT NULL,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    duration_minutes        integer NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    location                text,
    agenda                  text,
    status                  text NOT NULL CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    summary                 text,
    private_note_ciphertext bytea,
    private_note_key_id     text,
    private_note_updated_at timestamptz,
    version                 bigint NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    FOREIGN KEY (practice_id, coach_id) REFERENCES memberships (practice_id, user_id),
    CHECK (ends_at > starts_at),
    CONSTRAINT coaching_sessions_no_double_booking
        EXCLUDE USING gist (coach_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (status = 'scheduled')
);
CREATE INDEX coaching_sessions_coach_idx ON coaching_sessions (practice_id, coach_id, starts_at);
CREATE INDEX coaching_sessions_client_idx ON coaching_sessions (practice_id, client_id, starts_at);

-- A secret calendar feed URL per user and practice; regenerating revokes the old one.
CREATE TABLE calendar_feeds (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES practices (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX calendar_feeds_user_idx ON calendar_feeds (practice_id, user_id);

-- +goose Down
DROP TABLE calendar_feeds;
DROP TABLE coaching_sessions;
DROP TABLE action_steps;
DROP TABLE goal_progress;
DROP TABLE goals;
DROP TABLE client_invitations;
DROP TABLE clients;
