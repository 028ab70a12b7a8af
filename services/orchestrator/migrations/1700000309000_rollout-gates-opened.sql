-- Up Migration
-- Every rollout gate a run opened at the registry, recorded before it is opened: a gate whose
-- plan never committed (the instance stopped, or the plan's transaction failed, between opening
-- the gate and committing the plan) had no row anywhere, so nothing ever closed it, and every
-- later change of that place made its instances ask before applying. The sweep
-- (rollouts/rollout-gates.ts) closes a recorded gate once its plan ended, or once its run ended
-- without a plan. This replaces `rollouts.gate_closed_at`.
CREATE TABLE rollout_gates (
  run_id      uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
  namespace   text NOT NULL,
  environment text NOT NULL,
  opened_at   timestamptz NOT NULL DEFAULT now(),
  closed_at   timestamptz
);
INSERT INTO rollout_gates (run_id, namespace, environment, opened_at, closed_at)
  SELECT run_id, namespace, environment, created_at, gate_closed_at FROM rollouts;
CREATE INDEX rollout_gates_open ON rollout_gates (opened_at) WHERE closed_at IS NULL;
DROP INDEX rollouts_gate_left_open;
ALTER TABLE rollouts DROP COLUMN gate_closed_at;

-- Down Migration
ALTER TABLE rollouts ADD COLUMN gate_closed_at timestamptz;
UPDATE rollouts r SET gate_closed_at = g.closed_at FROM rollout_gates g WHERE g.run_id = r.run_id;
CREATE INDEX rollouts_gate_left_open ON rollouts (updated_at) WHERE status <> 'active' AND gate_closed_at IS NULL;
DROP TABLE rollout_gates;
