-- Up Migration

-- A Slack 429 with Retry-After holds the webhook until held_until, for every instance. Moving
-- next_allowed_at alone is not enough: messages that claimed their slot before the 429 are
-- already waiting for it, so each checks held_until right before it sends.
ALTER TABLE slack_pacing ADD COLUMN held_until timestamptz;

-- Down Migration
ALTER TABLE slack_pacing DROP COLUMN held_until;
