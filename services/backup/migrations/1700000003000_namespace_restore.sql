-- Restores of one namespace (to a point in time) through the registry, beside whole-system ones.
ALTER TABLE restores DROP CONSTRAINT restores_scope_check;
ALTER TABLE restores ADD CONSTRAINT restores_scope_check CHECK (scope IN ('system', 'namespace'));
ALTER TABLE restores ADD COLUMN namespace text;
ALTER TABLE restores ADD COLUMN restore_at timestamptz;
-- [{layer, fromRevision, fromCreatedAt, changed, revision}] once a namespace restore completed.
ALTER TABLE restores ADD COLUMN layers jsonb;
