-- Up Migration

-- Who asked to stop a run; the executor stops it at its next look (rolling back what it promoted).
ALTER TABLE runs ADD COLUMN cancel_requested_by text;

-- Down Migration
ALTER TABLE runs DROP COLUMN cancel_requested_by;
