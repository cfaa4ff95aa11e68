-- +goose Up
-- The consent texts clients sign. A version is never edited: a new text is a
-- new row. Clients sign the SHA-256 of the exact text they were shown.
CREATE TABLE consent_templates (
    version    integer PRIMARY KEY,
    body       text NOT NULL,
    sha256     text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TRIGGER consent_templates_append_only BEFORE UPDATE OR DELETE ON consent_templates
    FOR EACH ROW EXECUTE FUNCTION tandem_reject_change();

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
    'a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8', '2026-11-29T00:00:00Z');
-- +goose StatementEnd

-- A client's consent for one therapist (status pending, active, declined or
-- revoked; expiry is decided on every check), or a coach's request for one
-- (status requested), which grants nothing. The signed elements never change.
CREATE TABLE consents (
    id                 uuid PRIMARY KEY,
    practice_id        uuid NOT NULL,
    client_id          uuid NOT NULL,
    coach_id           uuid NOT NULL,
    status             text NOT NULL CHECK (status IN ('requested', 'pending', 'active', 'declined', 'revoked')),
    therapist_name     text NOT NULL,
    therapist_email    text NOT NULL CHECK (therapist_email = lower(therapist_email)),
    therapist_user_id  uuid REFERENCES users (id),
    data_classes       text NOT NULL,
    purpose            text NOT NULL,
    expires_at         timestamptz NOT NULL,
    template_version   integer REFERENCES consent_templates (version),
    template_sha256    text,
    signature_name     text,
    signed_at          timestamptz,
    signed_ip          text,
    signed_user_agent  text,
    signed_auth_method text,
    requested_by       uuid REFERENCES users (id),
    request_id         uuid,
    supersedes_id      uuid,
    activated_at       timestamptz,
    declined_at        timestamptz,
    revoked_at         timestamptz,
    revoke_reason      text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    UNIQUE (practice_id, id),
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    CHECK (status = 'requested' OR (signature_name IS NOT NULL AND signed_at IS NOT NULL AND template_version IS NOT NULL))
);
CREATE INDEX consents_client_idx ON consents (practice_id, client_id, id);
CREATE INDEX consents_therapist_idx ON consents (therapist_user_id, client_id);

CREATE TABLE therapist_invitations (
    id          uuid PRIMARY KEY,
    practice_id uuid NOT NULL,
    consent_id  uuid NOT NULL,
    email       text NOT NULL CHECK (email = lower(email)),
    token_hash  bytea NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    FOREIGN KEY (practice_id, consent_id) REFERENCES consents (practice_id, id)
);

-- One row for every read a therapist makes of client data. Append-only.
CREATE TABLE disclosures (
    id                uuid PRIMARY KEY,
    practice_id       uuid NOT NULL,
    client_id         uuid NOT NULL,
    consent_id        uuid NOT NULL,
    therapist_user_id uuid NOT NULL REFERENCES users (id),
    data_classes      text NOT NULL,
    template_version  integer NOT NULL,
    purpose           text NOT NULL,
    request_id        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id),
    FOREIGN KEY (practice_id, consent_id) REFERENCES consents (practice_id, id)
);
CREATE INDEX disclosures_client_idx ON disclosures (practice_id, client_id, id);
CREATE TRIGGER disclosures_append_only BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION tandem_reject_change();

-- Messages between a client's coaches and their consented therapist, sealed at rest.
CREATE TABLE coordination_notes (
    id              uuid PRIMARY KEY,
    practice_id     uuid NOT NULL,
    client_id       uuid NOT NULL,
    author_user_id  uuid NOT NULL REFERENCES users (id),
    author_role     text NOT NULL CHECK (author_role IN ('owner', 'coach', 'therapist')),
    consent_id      uuid,
    body_ciphertext bytea NOT NULL,
    body_key_id     text NOT NULL,
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (practice_id, client_id) REFERENCES clients (practice_id, id)
);
CREATE INDEX coordination_notes_client_idx ON coordination_notes (practice_id, client_id, id);

-- +goose Down
DROP TABLE coordination_notes;
DROP TABLE disclosures;
DROP TABLE therapist_invitations;
DROP TABLE consents;
DROP TABLE consent_templates;
