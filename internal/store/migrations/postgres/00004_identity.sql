-- +goose Up
-- Proven addresses, TOTP, and what a sign-in session knows of its device and
-- of its last authentication (for step-up).
ALTER TABLE users
    ADD COLUMN email_verified_at timestamptz,
    ADD COLUMN totp_secret bytea,
    ADD COLUMN totp_enabled_at timestamptz,
    ADD COLUMN totp_last_step bigint NOT NULL DEFAULT 0,
    ADD COLUMN replaced_at timestamptz;

-- Whoever accepted an e-mailed invitation proved their address.
UPDATE users SET email_verified_at = (
    SELECT min(t) FROM (
        SELECT accepted_at AS t FROM invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
        UNION ALL SELECT accepted_at FROM client_invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
        UNION ALL SELECT accepted_at FROM therapist_invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
    ) accepted
);

ALTER TABLE practices ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

ALTER TABLE auth_sessions
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN ip text NOT NULL DEFAULT '',
    ADD COLUMN user_agent text NOT NULL DEFAULT '',
    ADD COLUMN auth_time timestamptz,
    ADD COLUMN auth_method text NOT NULL DEFAULT 'password';
UPDATE auth_sessions SET last_used_at = created_at, auth_time = created_at;
CREATE INDEX auth_sessions_user_ip_idx ON auth_sessions (user_id, ip);

ALTER TABLE invitations ADD COLUMN revoked_at timestamptz;

ALTER TABLE consents
    ADD COLUMN signed_auth_at timestamptz,
    ADD COLUMN invitation_expires_at timestamptz;
UPDATE consents SET invitation_expires_at = (
    SELECT max(expires_at) FROM therapist_invitations ti WHERE ti.consent_id = consents.id
) WHERE status = 'pending';

-- Single-use links sent by e-mail: proving an address (a new account's, a
-- new address of an account, or a registration that replaces an unverified
-- account) and resetting a password. Stored only as hashes.
CREATE TABLE email_tokens (
    id         uuid PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'change_email', 'registration', 'password_reset')),
    user_id    uuid REFERENCES users (id),
    email      text NOT NULL CHECK (email = lower(email)),
    token_hash bytea NOT NULL UNIQUE,
    payload    text,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_email_idx ON email_tokens (email, purpose);

CREATE TABLE mfa_recovery_codes (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL,
    UNIQUE (user_id, code_hash)
);

-- The second step of a sign-in with MFA: a short-lived, single-use token
-- that allows a few wrong codes.
CREATE TABLE mfa_challenges (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    token_hash bytea NOT NULL UNIQUE,
    failures   integer NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE email_tokens;
ALTER TABLE consents DROP COLUMN invitation_expires_at, DROP COLUMN signed_auth_at;
ALTER TABLE invitations DROP COLUMN revoked_at;
DROP INDEX auth_sessions_user_ip_idx;
ALTER TABLE auth_sessions DROP COLUMN auth_method, DROP COLUMN auth_time, DROP COLUMN user_agent,
    DROP COLUMN ip, DROP COLUMN last_used_at;
ALTER TABLE practices DROP COLUMN require_mfa;
ALTER TABLE users DROP COLUMN replaced_at, DROP COLUMN totp_last_step, DROP COLUMN totp_enabled_at,
    DROP COLUMN totp_secret, DROP COLUMN email_verified_at;
