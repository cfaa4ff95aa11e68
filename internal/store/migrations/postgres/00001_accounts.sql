-- +goose Up
CREATE TABLE practices (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    version    bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Users are global: one person may coach in one practice and be a client of another.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email)),
    name          text NOT NULL,
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE TABLE memberships (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES practices (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    role        text NOT NULL CHECK (role IN ('owner', 'coach')),
    created_at  timestamptz NOT NULL,
    UNIQUE (practice_id, user_id),
    UNIQUE (practice_id, id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL REFERENCES practices (id),
    email       text NOT NULL CHECK (email = lower(email)),
    role        text NOT NULL CHECK (role IN ('coach')),
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid NOT NULL REFERENCES users (id),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX invitations_practice_idx ON invitations (practice_id, id);

-- A sign-in: the family of refresh tokens issued since one login.
CREATE TABLE auth_sessions (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    practice_id   uuid REFERENCES practices (id),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES auth_sessions (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE audit_events (
    id            uuid PRIMARY KEY,
    practice_id   uuid NOT NULL REFERENCES practices (id),
    actor_user_id uuid REFERENCES users (id),
    action        text NOT NULL,
    record_type   text NOT NULL,
    record_id     uuid,
    ip            text NOT NULL DEFAULT '',
    request_id    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE INDEX audit_events_practice_idx ON audit_events (practice_id, id);

-- Audit events are append-only, whatever the application asks.
-- +goose StatementBegin
CREATE FUNCTION tandem_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION tandem_reject_change();

-- +goose Down
DROP TABLE audit_events;
DROP FUNCTION tandem_reject_change();
DROP TABLE refresh_tokens;
DROP TABLE auth_sessions;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE practices;
