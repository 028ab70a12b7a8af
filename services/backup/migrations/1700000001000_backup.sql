-- The backup catalogue: every backup taken (or tried), its verification drills and restores.
-- Bundles themselves live in storage (local directory, S3); this is what was done with them.

CREATE TABLE backups (
  id                text PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('full', 'incremental')),
  status            text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'pruned')),
  trigger           text NOT NULL CHECK (trigger IN ('api', 'schedule')),
  requested_by      text NOT NULL,
  storage           text NOT NULL,
  started_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  snapshot_at       timestamptz,
  tables            integer,
  rows              bigint,
  bytes             bigint,
  manifest_sha256   text,
  encryption_key_id text,
  -- {tablesDone, tablesTotal, rows, bytes, current}: what a running backup has done so far.
  progress          jsonb NOT NULL DEFAULT '{}'::jsonb,
  error             text,
  verification      text NOT NULL DEFAULT 'pending'
                    CHECK (verification IN ('pending', 'running', 'verified', 'failed')),
  verified_at       timestamptz,
  verification_error text,
  pruned_at         timestamptz
);
CREATE INDEX backups_started ON backups (started_at DESC);

CREATE TABLE verifications (
  id           bigserial PRIMARY KEY,
  backup_id    text NOT NULL REFERENCES backups (id) ON DELETE CASCADE,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  status       text NOT NULL CHECK (status IN ('running', 'verified', 'failed')),
  duration_ms  integer,
  error        text,
  -- per table: {table, rows, expectedRows, matches}
  tables       jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX verifications_backup ON verifications (backup_id, id DESC);

CREATE TABLE restores (
  id           uuid PRIMARY KEY,
  backup_id    text NOT NULL,
  scope        text NOT NULL CHECK (scope IN ('system')),
  status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  requested_by text NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  progress     jsonb NOT NULL DEFAULT '{}'::jsonb,
  tables       integer,
  rows         bigint,
  error        text
);
