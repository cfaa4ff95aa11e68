-- +goose Up
-- See the PostgreSQL migration of the same number.
ALTER TABLE therapist_invitations ADD COLUMN declined_at DATETIME
    CHECK (accepted_at IS NULL OR declined_at IS NULL);
UPDATE therapist_invitations SET declined_at = accepted_at, accepted_at = NULL
    WHERE accepted_at IS NOT NULL AND accepted_by IS NULL;

-- +goose Down
UPDATE therapist_invitations SET accepted_at = declined_at, declined_at = NULL WHERE declined_at IS NOT NULL;
ALTER TABLE therapist_invitations DROP COLUMN declined_at;
