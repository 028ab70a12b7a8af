-- Findings drift.resolved closed, so a drift.detected applied after its drift.resolved does not open
-- the finding again. That happens: a monitor killed while holding a drift.detected unacked gets it
-- back only after the ack wait, behind the drift.resolved published later. Swept after the
-- health retention (HEALTH_RETENTION_DAYS).
CREATE TABLE closed_findings (
  finding_id  text PRIMARY KEY,
  closed_at   timestamptz NOT NULL DEFAULT now()
);
