-- Up Migration
-- Wave rollouts' gates, run id → environment: while one is open on a (namespace, environment),
-- its config.changed events say `rolloutGate: true` and the SDK asks the orchestrator before
-- applying (otherwise it applies without asking). Opening or closing one bumps `write_version`,
-- so a write prepared from a state read before the change fails its swap and reads it again:
-- every revision committed after a gate opened is marked.
ALTER TABLE namespaces ADD COLUMN rollout_gates jsonb NOT NULL DEFAULT '{}'::jsonb;

-- Down Migration
ALTER TABLE namespaces DROP COLUMN rollout_gates;
