-- Up Migration

-- Slack takes about one message per second per incoming webhook, across every notifier instance:
-- one row per webhook (keyed by an HMAC of its URL, which is a secret) holding when the next
-- message may go. A sender claims a slot by moving next_allowed_at forward in one statement.
CREATE TABLE slack_pacing (
  webhook_key      text PRIMARY KEY,
  next_allowed_at  timestamptz NOT NULL
);

-- Down Migration
DROP TABLE slack_pacing;
