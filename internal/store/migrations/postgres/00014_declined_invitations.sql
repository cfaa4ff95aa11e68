-- +goose Up
-- A therapist who declines a consent invitation from its e-mailed link
-- spends it without an account. That was stored as accepted by nobody
-- (accepted_at set, accepted_by NULL); a declined invitation now says so
-- in a column of its own, and an invitation is accepted or declined,
-- never both. Only a decline ever left accepted_by NULL beside
-- accepted_at, so those rows are the declined ones.
ALTER TABLE therapist_invitations ADD COLUMN declined_at timestamptz;
UPDATE therapist_invitations SET declined_at = accepted_at, accepted_at = NULL
    WHERE accepted_at IS NOT NULL AND accepted_by IS NULL;
ALTER TABLE therapist_invitations ADD CONSTRAINT therapist_invitations_accepted_or_declined
    CHECK (accepted_at IS NULL OR declined_at IS NULL);

-- +goose Down
UPDATE therapist_invitations SET accepted_at = declined_at, declined_at = NULL WHERE declined_at IS NOT NULL;
ALTER TABLE therapist_invitations DROP COLUMN declined_at;
