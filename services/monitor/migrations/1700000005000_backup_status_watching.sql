-- `backup_status` rows are made by the monitor when it starts watching (backup-store.ts
-- `startWatching`), no longer at migration time: a database migrated (or cloned from a migrated
-- template) long before a monitor first ran counted backups overdue from before anyone watched.
-- Kinds never verified nor failed start their clock again at the next start; those with an
-- outcome keep their row.
DELETE FROM backup_status WHERE verified_at IS NULL AND failed_at IS NULL;
