-- Up Migration
-- Data keys of secrets (envelope encryption): one or more per namespace, the newest is the one new
-- secrets use. `id` is global and never reused, so a sealed secret's `key` names exactly one data
-- key forever (a namespace deleted and created again gets new ids). `wrapped_key` is the data key
-- encrypted by the master key `master_key_id` (AES-256-GCM, bound to namespace and id); rotation
-- re-wraps it under another master key, the data key itself (and every secret) stays as it is.
CREATE TABLE secret_keys (
  id            bigserial PRIMARY KEY,
  namespace     text NOT NULL REFERENCES namespaces(name) ON DELETE CASCADE,
  master_key_id text NOT NULL,
  wrapped_key   text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  rewrapped_at  timestamptz
);
CREATE INDEX secret_keys_by_namespace ON secret_keys (namespace, id DESC);
CREATE INDEX secret_keys_by_master_key ON secret_keys (master_key_id);

-- A resolved document with secrets keeps its stored (sealed) form here for secret-readers; `body`
-- holds the redacted document, which is all that caches and other readers ever see. NULL when the
-- document has no secret.
ALTER TABLE resolved_heads ADD COLUMN sealed text;

-- Down Migration
ALTER TABLE resolved_heads DROP COLUMN sealed;
DROP TABLE secret_keys;
