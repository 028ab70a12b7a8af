-- Up Migration

-- A pipeline's name is its identity; every edit is a new immutable version.
CREATE TABLE pipelines (
  name            text PRIMARY KEY,
  namespace       text NOT NULL,
  source_env      text NOT NULL,
  target_env      text NOT NULL,
  current_version integer NOT NULL,
  created_by      text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_by      text NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pipeline_versions (
  pipeline    text NOT NULL REFERENCES pipelines (name) ON DELETE CASCADE,
  version     integer NOT NULL,
  definition  jsonb NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, version)
);

-- A run keeps a copy of the definition it started with: editing the pipeline never changes a run.
-- `claimed_by`/`claim_expires_at`: the executor holding it; an expired claim is free to take.
-- `wake_at`: when a waiting run (approval, wait-applied, health-gate) is looked at again.
CREATE TABLE runs (
  id                uuid PRIMARY KEY,
  pipeline          text NOT NULL,
  pipeline_version  integer NOT NULL,
  definition        jsonb NOT NULL,
  namespace         text NOT NULL,
  source_env        text NOT NULL,
  target_env        text NOT NULL,
  source_revision   integer NOT NULL,
  trigger           text NOT NULL,
  started_by        text NOT NULL,
  status            text NOT NULL CHECK (status IN
                      ('running', 'awaiting-approval', 'rolling-back', 'succeeded', 'failed', 'rolled-back')),
  current_step      integer NOT NULL DEFAULT 0,
  context           jsonb NOT NULL DEFAULT '{}',
  failure           text,
  claimed_by        text,
  claim_expires_at  timestamptz,
  wake_at           timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz
);
CREATE INDEX runs_pending ON runs (wake_at) WHERE status IN ('running', 'awaiting-approval', 'rolling-back');
CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC);

-- One row per step of a run (the automatic rollback is one more row at the end).
CREATE TABLE run_steps (
  run_id       uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx          integer NOT NULL,
  name         text NOT NULL,
  type         text NOT NULL,
  status       text NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  state        jsonb NOT NULL DEFAULT '{}',
  summary      text,
  output       text,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (run_id, idx)
);

CREATE TABLE approvals (
  run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step_idx    integer NOT NULL,
  actor       text NOT NULL,
  decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment     text NOT NULL DEFAULT '',
  decided_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, step_idx, actor)
);

-- Down Migration
DROP TABLE approvals;
DROP TABLE run_steps;
DROP TABLE runs;
DROP TABLE pipeline_versions;
DROP TABLE pipelines;
