-- +goose Up
-- See the PostgreSQL migration of the same number.
ALTER TABLE notification_preferences ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- +goose Down
ALTER TABLE notification_preferences DROP COLUMN timezone;
