-- Up Migration

-- What started a run, in words: the change request's id, the pushed branch and commit.
ALTER TABLE runs ADD COLUMN trigger_detail text;

-- Down Migration
ALTER TABLE runs DROP COLUMN trigger_detail;
