-- Up Migration

-- A wave rollout of one run's promotion: while `active`, instances of (namespace, environment)
-- outside the released waves keep `hold_revision` (the SDK asks before applying a newer one).
CREATE TABLE rollouts (
  run_id          uuid PRIMARY KEY REFERENCES runs (id),
  pipeline        text NOT NULL,
  namespace       text NOT NULL,
  environment     text NOT NULL,
  hold_revision   integer NOT NULL,
  target_revision integer,
  waves           jsonb NOT NULL,
  released_waves  integer NOT NULL DEFAULT 0,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'aborted')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One active rollout per (namespace, environment): the one the SDK's question is answered from.
CREATE UNIQUE INDEX rollouts_one_active ON rollouts (namespace, environment) WHERE status = 'active';
-- The newest rollout of a place answers the SDK's question (an aborted one still holds its revision).
CREATE INDEX rollouts_newest ON rollouts (namespace, environment, created_at DESC);

-- Instances that asked during a rollout, with their labels: which label waves they belong to.
CREATE TABLE rollout_members (
  run_id      uuid NOT NULL REFERENCES rollouts (run_id) ON DELETE CASCADE,
  instance_id text NOT NULL,
  labels      jsonb NOT NULL DEFAULT '{}',
  asked_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, instance_id)
);

-- Down Migration
DROP TABLE rollout_members;
DROP TABLE rollouts;
