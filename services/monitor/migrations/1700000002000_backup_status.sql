-- The newest backup outcome of each kind, from backup.verified / backup.failed (the rules
-- backup_failed and backup_overdue). `watched_since` starts the overdue clock when no backup of
-- the kind was ever verified: the monitor has been watching since then, across restarts.
CREATE TABLE backup_status (
  kind                text PRIMARY KEY CHECK (kind IN ('full', 'incremental')),
  watched_since       timestamptz NOT NULL DEFAULT now(),
  verified_at         timestamptz,
  verified_backup_id  text,
  failed_at           timestamptz,
  failed_backup_id    text,
  failed_stage        text,
  failure_reason      text
);
INSERT INTO backup_status (kind) VALUES ('full'), ('incremental');
