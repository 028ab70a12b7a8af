-- Up Migration

-- A batch of config.changed costs the detector one statement (changes/change-store.ts). Two
-- things make that possible without losing what the batch's transaction used to guarantee.

-- 1. The rule by which a head moves, in one place, applied to many changes in stream order inside
-- the server. One `INSERT ... ON CONFLICT DO UPDATE` cannot touch a row twice, and a head's next
-- value depends on the one before (same revision, new hash, later time), so the changes are
-- applied one by one here rather than set-based: each is the same upsert as before, and takes the
-- row lock, so two detector instances writing the same head still never move it backwards.
-- `items` is a JSON array of {namespace, environment, revision, hash, changed_at, learnt_from,
-- trace_parent}, applied in array order; returns how many of them moved a head.
-- (Both functions keep the schema they were made in, so a statement from any session finds the
-- detector's tables.)
CREATE FUNCTION advance_heads(items jsonb) RETURNS integer LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
DECLARE
  c record;
  n integer;
  moved integer := 0;
BEGIN
  FOR c IN
    SELECT * FROM ROWS FROM (jsonb_to_recordset(COALESCE(items, '[]'::jsonb))
      AS (namespace text, environment text, revision integer, hash text, changed_at timestamptz,
          learnt_from text, trace_parent text)) WITH ORDINALITY AS x
    ORDER BY x.ordinality
  LOOP
    -- A head only moves forward: a higher revision, or at the same revision a new hash from a
    -- later event (variables/dependency changes). A late event for the head the registry told us
    -- about only corrects when the grace period started.
    INSERT INTO heads AS h (namespace, environment, revision, hash, changed_at, learnt_from, trace_parent)
    VALUES (c.namespace, c.environment, c.revision, c.hash, c.changed_at, c.learnt_from, c.trace_parent)
    ON CONFLICT (namespace, environment) DO UPDATE SET
      revision = EXCLUDED.revision, hash = EXCLUDED.hash,
      changed_at = EXCLUDED.changed_at, learnt_from = EXCLUDED.learnt_from,
      trace_parent = EXCLUDED.trace_parent
    WHERE EXCLUDED.revision > h.revision
       OR (EXCLUDED.revision = h.revision AND EXCLUDED.hash <> h.hash AND EXCLUDED.changed_at > h.changed_at)
       OR (EXCLUDED.revision = h.revision AND EXCLUDED.hash = h.hash
           AND h.learnt_from = 'registry' AND EXCLUDED.learnt_from = 'event');
    GET DIAGNOSTICS n = ROW_COUNT;
    moved := moved + n;
  END LOOP;
  RETURN moved;
END
$$;

-- 2. Policies are kept in each detector's memory; this counter says when they changed. Every
-- statement that touches `policies` (the API's, or anyone's) moves it in the same transaction,
-- and the batch statement reads it, so an instance reloads its list exactly when another one (or
-- itself) changed a policy that a batch committed after could see: no timing involved.
CREATE TABLE policies_version (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint NOT NULL
);
INSERT INTO policies_version (only_row, version) VALUES (true, 1);

CREATE FUNCTION policies_version_bump() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
  UPDATE policies_version SET version = version + 1;
  RETURN NULL;
END
$$;
CREATE TRIGGER policies_version_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON policies
  FOR EACH STATEMENT EXECUTE FUNCTION policies_version_bump();

-- Down Migration
DROP TRIGGER policies_version_bump ON policies;
DROP FUNCTION policies_version_bump();
DROP TABLE policies_version;
DROP FUNCTION advance_heads(jsonb);
