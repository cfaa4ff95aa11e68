-- +goose Up
-- Each person's own time zone (an IANA name), for the mail they get as an
-- owner, coach or therapist: the weekly summary at their local Monday
-- morning, their quiet hours, their session reminders. Mail to a client
-- as a client keeps following the zone of their client record. Everyone
-- who has preferences already starts in UTC, as they were treated until now.
ALTER TABLE notification_preferences ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';

-- +goose Down
ALTER TABLE notification_preferences DROP COLUMN timezone;
