-- Up Migration

-- The schedules' lease holder looks each tick for running job runs whose claim lapsed (their
-- instance stopped) to record and announce them as failed: only running rows are indexed.
CREATE INDEX job_runs_running ON job_runs (claim_expires_at) WHERE status = 'running';

-- Down Migration
DROP INDEX job_runs_running;
