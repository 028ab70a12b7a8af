-- Up Migration

-- Maintenance jobs: a compliance scan or a backup drill, by hand or on a schedule.
CREATE TABLE jobs (
  name       text PRIMARY KEY,
  kind       text NOT NULL,
  definition jsonb NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per run of a job. A scheduled time is claimed by inserting its row (unique per job and
-- time), so it fires once whichever instance holds the schedules; the instance running it renews
-- `claim_expires_at`, and a running row whose claim expired was interrupted.
CREATE TABLE job_runs (
  id               uuid PRIMARY KEY,
  job              text NOT NULL,
  kind             text NOT NULL,
  trigger          text NOT NULL,
  scheduled_at     timestamptz,
  started_by       text NOT NULL,
  status           text NOT NULL,
  summary          text NOT NULL DEFAULT '',
  findings         jsonb NOT NULL DEFAULT '[]'::jsonb,
  claim_expires_at timestamptz,
  started_at       timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz
);
CREATE UNIQUE INDEX job_runs_fire_once ON job_runs (job, scheduled_at) WHERE scheduled_at IS NOT NULL;
CREATE INDEX job_runs_by_job ON job_runs (job, started_at DESC);

-- Down Migration
DROP TABLE job_runs;
DROP TABLE jobs;
