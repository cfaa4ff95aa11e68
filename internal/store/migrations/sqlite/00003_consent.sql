-- +goose Up
-- The consent TEXTs clients sign. A version is never edited: a new TEXT is a
-- new row. Clients sign the SHA-256 of the exact TEXT they were shown.
CREATE TABLE consent_templates (
    version    INTEGER PRIMARY KEY,
    body       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE TRIGGER consent_templates_no_update BEFORE UPDATE ON consent_templates
BEGIN SELECT RAISE(ABORT, 'consent_templates is append-only'); END;
CREATE TRIGGER consent_templates_no_delete BEFORE DELETE ON consent_templates
BEGIN SELECT RAISE(ABORT, 'consent_templates is append-only'); END;

-- The text holds semicolons: keep the statement whole.
-- +goose StatementBegin
INSERT INTO consent_templates (version, body, sha256, created_at) VALUES (1, 'TANDEM CONSENT TO SHARE COACHING INFORMATION WITH A THERAPIST (version 1)

By signing below, I, the client, allow my coaching practice and my coach
(named below as the discloser) to share the coaching information I select
with the therapist I name (the recipient), so that they can coordinate on
my behalf.

What is shared. Only the data classes I tick: my goals and their progress;
my action steps and when I completed them; the dates of my sessions and
whether they took place; the shared summaries of my sessions; and messages
between my coach and my therapist about me (coordination notes). Nothing
else is shared: never my coach''s private notes, never anything about other
people, never billing or practice information.

Why. The purpose I write below is the only purpose of this sharing.

Until when. This consent ends on the expiry date below, at the latest one
year after I sign it.

I may revoke it at any time. Revoking takes effect at once for everything
not yet viewed; what my therapist has already viewed cannot be taken back.
I can see every time my information was viewed.

Coaching is not therapy. Coaching supports a functioning person towards
their goals; it does not diagnose or treat. Tandem is not a clinical record:
psychotherapy notes do not belong in it.

Signing is voluntary. My coaching does not depend on whether I sign this
consent, and I may decline or revoke it without any consequence for my
coaching.
',
    'a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8', '2026-11-29 00:00:00+00:00');
-- +goose StatementEnd

-- A client's consent for one therapist (status pending, active, declined or
-- revoked; expiry is decided on every check), or a coach's request for one
-- (status requested), which grants nothing. The signed elements never change.
CREATE TABLE consents (
    id                 TEXT PRIMARY KEY,
    practice_id        TEXT NOT NULL,
    client_id          TEXT NOT NULL,
    coach_id           TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('requested', 'pending', 'active', 'declined', 'revoked')),
    therapist_name     TEXT NOT NULL,
    therapist_email    TEXT NOT NULL CHECK (therapist_email = lower(therapist_email)),
    therapist_user_id  TEXT REFERENCES users (id),
    data_classes       TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    expires_at         DATETIME NOT NULL,
    template_version   INTEGER REFERENCES consent_templates (version),
    template_sha256    TEXT,
    signature_name     TEXT,
    signed_at          DATETIME,
    signed_ip          TEXT,
    signed_user_agent  TEXT,
    signed_auth_method TEXT,
    requested_by       TEXT REFERENCES users (id),
    request_id         TEXT,
    supersedes_id      TEXT,
    activated_at       DATETIME,
    declined_at        DATETIME,
    revoked_at         DATETIME,
    revoke_reason      TEXT,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    CHECK (status = 'requested' OR (signature_name IS NOT NULL AND signed_at IS NOT NULL AND template_version IS NOT NULL))
);
CREATE INDEX consents_client_idx ON consents (practice_id, client_id, id);
CREATE INDEX consents_therapist_idx ON consents (therapist_user_id, client_id);

CREATE TABLE therapist_invitations (
    id          TEXT PRIMARY KEY,
    practice_id TEXT NOT NULL,
    consent_id  TEXT NOT NULL,
    email       TEXT NOT NULL CHECK (email = lower(email)),
    token_hash  BLOB NOT NULL UNIQUE,
    expires_at  DATETIME NOT NULL,
    accepted_at DATETIME,
    accepted_by TEXT REFERENCES users (id),
    created_at  DATETIME NOT NULL,
    FOREIGN KEY (practice_id, consent_id) REFERENCES consents (practice_id, id)
);

-- One row for every read a therapist makes of client data. Append-only.
CREATE TABLE disclosures (
    id                TEXT PRIMARY KEY,
    practice_id       TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    consent_id        TEXT NOT NULL,
    therapist_user_id TEXT NOT NULL REFERENCES users (id),
    data_classes      TEXT NOT NULL,
    template_version  INTEGER NOT NULL,
    purpose           TEXT NOT NULL,
    request_id        TEXT NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    FOREIGN KEY (practice_id, consent_id) REFERENCES consents (practice_id, id)
);
CREATE INDEX disclosures_client_idx ON disclosures (practice_id, client_id, id);
CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN SELECT RAISE(ABORT, 'disclosures is append-only'); END;

-- Messages between a client's coaches and their consented therapist, sealed at rest.
CREATE TABLE coordination_notes (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    author_user_id  TEXT NOT NULL REFERENCES users (id),
    author_role     TEXT NOT NULL CHECK (author_role IN ('owner', 'coach', 'therapist')),
    consent_id      TEXT,
    body_ciphertext BLOB NOT NULL,
    body_key_id     TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX coordination_notes_client_idx ON coordination_notes (practice_id, client_id, id);

-- +goose Down
DROP TABLE coordination_notes;
DROP TABLE disclosures;
DROP TABLE therapist_invitations;
DROP TABLE consents;
DROP TABLE consent_templates;
