-- Up Migration

-- Every change to a silence (created, edited, ended early) as a numbered, immutable version, like
-- the routing config's versions: who, why, the silence as it stood after the change, and what
-- changed. Numbers are gapless across all silences (taken under a transaction advisory lock).
CREATE TABLE silence_versions (
  version     integer PRIMARY KEY,
  silence_id  uuid NOT NULL,
  action      text NOT NULL CHECK (action IN ('created', 'edited', 'expired')),
  silence     jsonb NOT NULL,
  changes     jsonb NOT NULL DEFAULT '[]',
  author      text NOT NULL,
  comment     text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX silence_versions_silence ON silence_versions (silence_id, version);

-- Versions are a record: nothing rewrites or removes one.
CREATE FUNCTION silence_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'silence versions are immutable';
END
$$;
CREATE TRIGGER silence_versions_immutable BEFORE UPDATE OR DELETE ON silence_versions
  FOR EACH ROW EXECUTE FUNCTION silence_versions_immutable();

-- Silences made before versions existed get a "created" version, so every silence has a history.
INSERT INTO silence_versions (version, silence_id, action, silence, changes, author, comment, created_at)
SELECT row_number() OVER (ORDER BY created_at, id), id, 'created',
       jsonb_build_object('id', id, 'matchers', matchers,
                          'startsAt', to_char(starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'endsAt', to_char(ends_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                          'createdBy', created_by, 'comment', comment, 'expiredBy', expired_by),
       '[]', created_by, comment, created_at
FROM silences;

-- Down Migration
DROP TABLE silence_versions;
DROP FUNCTION silence_versions_immutable();
