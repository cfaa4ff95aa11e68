-- +goose Up
CREATE TABLE clients (
    id          TEXT PRIMARY KEY,
    practice_id TEXT NOT NULL REFERENCES practices (id),
    coach_id    TEXT NOT NULL,
    user_id     TEXT REFERENCES users (id),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       TEXT CHECK (email = lower(email)),
    phone       TEXT,
    timezone    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'paused', 'archived')),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL,
    archived_at DATETIME,
    UNIQUE (practice_id, id),
    UNIQUE (practice_id, user_id),
    FOREIGN KEY (practice_id, coach_id) REFERENCES memberships (practice_id, user_id)
);
CREATE INDEX clients_coach_idx ON clients (practice_id, coach_id, status, id);
CREATE INDEX clients_user_idx ON clients (user_id);

CREATE TABLE client_invitations (
    id          TEXT PRIMARY KEY,
    practice_id TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    email       TEXT NOT NULL CHECK (email = lower(email)),
    token_hash  BLOB NOT NULL UNIQUE,
    invited_by  TEXT NOT NULL REFERENCES users (id),
    expires_at  DATETIME NOT NULL,
    accepted_at DATETIME,
    accepted_by TEXT REFERENCES users (id),
    revoked_at  DATETIME,
    created_at  DATETIME NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX client_invitations_client_idx ON client_invitations (practice_id, client_id);

CREATE TABLE goals (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    title           TEXT NOT NULL,
    description     TEXT,
    why             TEXT NOT NULL,
    target_date     TEXT CHECK (target_date IS NULL OR target_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    status          TEXT NOT NULL CHECK (status IN ('active', 'achieved', 'released')),
    metric_unit     TEXT,
    metric_baseline REAL,
    metric_target   REAL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (practice_id, id),
    UNIQUE (practice_id, client_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    CHECK ((metric_unit IS NULL) = (metric_baseline IS NULL) AND (metric_unit IS NULL) = (metric_target IS NULL))
);
CREATE INDEX goals_client_idx ON goals (practice_id, client_id, status, id);

CREATE TABLE goal_progress (
    id          TEXT PRIMARY KEY,
    practice_id TEXT NOT NULL,
    goal_id     TEXT NOT NULL,
    recorded_on TEXT NOT NULL CHECK (recorded_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    value       REAL NOT NULL,
    note        TEXT,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  DATETIME NOT NULL,
    FOREIGN KEY (practice_id, goal_id) REFERENCES goals (practice_id, id) ON DELETE CASCADE
);
CREATE INDEX goal_progress_goal_idx ON goal_progress (goal_id, recorded_on, id);

-- A step belongs to a goal of the same client: the foreign key includes both.
CREATE TABLE action_steps (
    id                 TEXT PRIMARY KEY,
    practice_id        TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    goal_id            TEXT NOT NULL,
    title              TEXT NOT NULL,
    details            TEXT,
    due_date           TEXT CHECK (due_date IS NULL OR due_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    recurrence         TEXT NOT NULL CHECK (recurrence IN ('none', 'daily', 'weekly')),
    status             TEXT NOT NULL CHECK (status IN ('open', 'done', 'skipped')),
    completed_at       DATETIME,
    reflection         TEXT,
    next_occurrence_id TEXT,
    created_by         TEXT NOT NULL REFERENCES users (id),
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id, goal_id) REFERENCES goals (practice_id, client_id, id) ON DELETE CASCADE
);
CREATE INDEX action_steps_client_idx ON action_steps (practice_id, client_id, status, id);
CREATE INDEX action_steps_goal_idx ON action_steps (goal_id, id);

CREATE TABLE coaching_sessions (
    id                      TEXT PRIMARY KEY,
    practice_id             TEXT NOT NULL,
    client_id               TEXT NOT NULL,
    coach_id                TEXT NOT NULL,
    starts_at               DATETIME NOT NULL,
    ends_at                 DATETIME NOT NULL,
    duration_minutes        INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 480),
    location                TEXT,
    agenda                  TEXT,
    status                  TEXT NOT NULL CHECK (status IN ('scheduled', 'completed', 'cancelled', 'no_show')),
    summary                 TEXT,
    private_note_ciphertext BLOB,
    private_note_key_id     TEXT,
    private_note_updated_at DATETIME,
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              DATETIME NOT NULL,
    updated_at              DATETIME NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    FOREIGN KEY (practice_id, coach_id) REFERENCES memberships (practice_id, user_id),
    CHECK (ends_at > starts_at)
);
-- SQLite has no exclusion constraints: the sessions service checks for a
-- double-booked coach in the same transaction as the write, and SQLite's
-- single writer serialises those transactions.
CREATE INDEX coaching_sessions_coach_idx ON coaching_sessions (practice_id, coach_id, starts_at);
CREATE INDEX coaching_sessions_client_idx ON coaching_sessions (practice_id, client_id, starts_at);

-- A secret calendar feed URL per user and practice; regenerating revokes the old one.
CREATE TABLE calendar_feeds (
    id          TEXT PRIMARY KEY,
    practice_id TEXT NOT NULL REFERENCES practices (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  BLOB NOT NULL UNIQUE,
    created_at  DATETIME NOT NULL,
    revoked_at  DATETIME
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
