-- The newest finished run of each pipeline, from pipeline.failed / pipeline.succeeded (the rule
-- pipeline_failed). A pipeline whose newest run failed fires; its next succeeded run resolves it.
CREATE TABLE pipeline_status (
  pipeline        text PRIMARY KEY,
  namespace       text NOT NULL,
  environment     text NOT NULL,
  run_id          uuid NOT NULL,
  outcome         text NOT NULL CHECK (outcome IN ('failed', 'succeeded')),
  finished_at     timestamptz NOT NULL,
  failed_step     text,
  failure_reason  text,
  rolled_back     boolean NOT NULL DEFAULT false
);
