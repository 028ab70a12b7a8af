-- Up Migration
-- When the run's rollout gate at the registry was closed (null: not yet, or not known to be): a
-- plan that ended with its gate still open (the close failed, or the instance stopped between the
-- end and the close) is closed by the sweep (rollouts/rollout-gates.ts).
ALTER TABLE rollouts ADD COLUMN gate_closed_at timestamptz;
CREATE INDEX rollouts_gate_left_open ON rollouts (updated_at) WHERE status <> 'active' AND gate_closed_at IS NULL;

-- Down Migration
DROP INDEX rollouts_gate_left_open;
ALTER TABLE rollouts DROP COLUMN gate_closed_at;
