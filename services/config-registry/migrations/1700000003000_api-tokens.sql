-- Up Migration
-- API tokens. Only a keyed digest (HMAC-SHA256 under AUTH_TOKEN_KEY) is stored; the token itself
-- is shown once, at creation. Revoked tokens stay for the audit trail.
CREATE TABLE api_tokens (
  id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
  digest        text NOT NULL,
  name          text NOT NULL,
  owner         text NOT NULL,
  grants        jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  created_by    text NOT NULL,
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  revoked_by    text
);
CREATE INDEX api_tokens_active ON api_tokens (created_at) WHERE revoked_at IS NULL;

-- Down Migration
DROP TABLE api_tokens;
