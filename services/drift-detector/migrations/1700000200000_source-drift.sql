-- Up Migration

-- The Git-bound layers the detector has seen imported (from git.imported): which source and branch
-- own a layer and the revision Git last wrote, so a source finding can name what Git holds and a
-- re-import can be asked of the right source.
CREATE TABLE git_layers (
  namespace    text NOT NULL,
  layer        text NOT NULL,
  source_id    uuid NOT NULL,
  source       text NOT NULL,
  branch       text NOT NULL,
  commit_sha   text NOT NULL,
  revision     integer NOT NULL,
  imported_at  timestamptz NOT NULL,
  PRIMARY KEY (namespace, layer)
);
CREATE INDEX git_layers_by_source ON git_layers (source_id);

-- A re-import of a Git source (source drift) is a remediation without an instance.
ALTER TABLE remediations
  ALTER COLUMN service DROP NOT NULL,
  ALTER COLUMN instance_id DROP NOT NULL,
  ALTER COLUMN target_revision DROP NOT NULL,
  ADD COLUMN git_source text,
  ADD COLUMN branch text,
  DROP CONSTRAINT remediations_action_check,
  ADD CONSTRAINT remediations_action_check CHECK (action IN ('resync', 'reimport'));

-- Down Migration
DELETE FROM remediations WHERE action = 'reimport';
ALTER TABLE remediations
  DROP CONSTRAINT remediations_action_check,
  ADD CONSTRAINT remediations_action_check CHECK (action IN ('resync')),
  DROP COLUMN branch,
  DROP COLUMN git_source,
  ALTER COLUMN target_revision SET NOT NULL,
  ALTER COLUMN instance_id SET NOT NULL,
  ALTER COLUMN service SET NOT NULL;
DROP TABLE git_layers;
