-- Incremental backups: each names the backup it builds on (the previous one of its chain).
ALTER TABLE backups ADD COLUMN parent_id text REFERENCES backups (id);
CREATE INDEX backups_parent ON backups (parent_id) WHERE parent_id IS NOT NULL;
