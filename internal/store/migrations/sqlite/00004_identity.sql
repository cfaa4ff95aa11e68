-- +goose Up
-- Proven addresses, TOTP, and what a sign-in session knows of its device and
-- of its last authentication (for step-up).
ALTER TABLE users ADD COLUMN email_verified_at DATETIME;
ALTER TABLE users ADD COLUMN totp_secret BLOB;
ALTER TABLE users ADD COLUMN totp_enabled_at DATETIME;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN replaced_at DATETIME;

-- Whoever accepted an e-mailed invitation proved their address.
UPDATE users SET email_verified_at = (
    SELECT min(t) FROM (
        SELECT accepted_at AS t FROM invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
        UNION ALL SELECT accepted_at FROM client_invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
        UNION ALL SELECT accepted_at FROM therapist_invitations WHERE accepted_by = users.id AND accepted_at IS NOT NULL
    )
);

ALTER TABLE practices ADD COLUMN require_mfa BOOLEAN NOT NULL DEFAULT 0;

ALTER TABLE auth_sessions ADD COLUMN last_used_at DATETIME;
ALTER TABLE auth_sessions ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE auth_sessions ADD COLUMN auth_time DATETIME;
ALTER TABLE auth_sessions ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'password';
UPDATE auth_sessions SET last_used_at = created_at, auth_time = created_at;
CREATE INDEX auth_sessions_user_ip_idx ON auth_sessions (user_id, ip);

ALTER TABLE invitations ADD COLUMN revoked_at DATETIME;

ALTER TABLE consents ADD COLUMN signed_auth_at DATETIME;
ALTER TABLE consents ADD COLUMN invitation_expires_at DATETIME;
UPDATE consents SET invitation_expires_at = (
    SELECT max(expires_at) FROM therapist_invitations ti WHERE ti.consent_id = consents.id
) WHERE status = 'pending';

-- Single-use links sent by e-mail: proving an address (a new account's, a
-- new address of an account, or a registration that replaces an unverified
-- account) and resetting a password. Stored only as hashes.
CREATE TABLE email_tokens (
    id               TEXT PRIMARY KEY,
    purpose          TEXT NOT NULL CHECK (purpose IN ('verify_email', 'change_email', 'registration', 'password_reset')),
    user_id          TEXT REFERENCES users (id),
    email            TEXT NOT NULL CHECK (email = lower(email)),
    token_hash       BLOB NOT NULL UNIQUE,
    payload          TEXT,
    expires_at       DATETIME NOT NULL,
    used_at          DATETIME,
    created_at       DATETIME NOT NULL
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);
CREATE INDEX email_tokens_email_idx ON email_tokens (email, purpose);

CREATE TABLE mfa_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    code_hash  BLOB NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL,
    UNIQUE (user_id, code_hash)
);

-- The second step of a sign-in with MFA: a short-lived, single-use token
-- that allows a few wrong codes.
CREATE TABLE mfa_challenges (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    token_hash BLOB NOT NULL UNIQUE,
    failures   INTEGER NOT NULL DEFAULT 0,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE email_tokens;
ALTER TABLE consents DROP COLUMN invitation_expires_at;
ALTER TABLE consents DROP COLUMN signed_auth_at;
ALTER TABLE invitations DROP COLUMN revoked_at;
DROP INDEX auth_sessions_user_ip_idx;
ALTER TABLE auth_sessions DROP COLUMN auth_method;
ALTER TABLE auth_sessions DROP COLUMN auth_time;
ALTER TABLE auth_sessions DROP COLUMN user_agent;
ALTER TABLE auth_sessions DROP COLUMN ip;
ALTER TABLE auth_sessions DROP COLUMN last_used_at;
ALTER TABLE practices DROP COLUMN require_mfa;
ALTER TABLE users DROP COLUMN replaced_at;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_enabled_at;
ALTER TABLE users DROP COLUMN totp_secret;
ALTER TABLE users DROP COLUMN email_verified_at;
