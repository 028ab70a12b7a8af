-- Up Migration

-- What each (namespace, environment) should run: its newest resolved revision and hash, learnt
-- from config.changed (or from the registry when no event was seen). `changed_at` starts the
-- stale grace period.
CREATE TABLE heads (
  namespace    text NOT NULL,
  environment  text NOT NULL,
  revision     integer NOT NULL,
  hash         text NOT NULL,
  changed_at   timestamptz NOT NULL,
  learnt_from  text NOT NULL CHECK (learnt_from IN ('event', 'registry')),
  PRIMARY KEY (namespace, environment)
);

-- Every hash a resolved revision has had (a variables or dependency change moves the hash and
-- keeps the revision). An instance whose hash is not among its revision's is divergent.
CREATE TABLE revision_hashes (
  namespace    text NOT NULL,
  environment  text NOT NULL,
  revision     integer NOT NULL,
  hash         text NOT NULL,
  first_seen_at timestamptz NOT NULL,
  PRIMARY KEY (namespace, environment, revision, hash)
);

-- The inventory: the newest report of each instance. `reported_at` (the event's time) orders
-- reports, so late or repeated ones never move an instance backwards.
CREATE TABLE instances (
  namespace          text NOT NULL,
  environment        text NOT NULL,
  instance_id        text NOT NULL,
  service            text NOT NULL,
  -- Null until the instance reports what it runs (a first report may be a rejection).
  revision           integer,
  hash               text,
  status             text CHECK (status IN ('live', 'cache', 'stopping')),
  reported_at        timestamptz,
  last_seen_at       timestamptz NOT NULL,
  first_seen_at      timestamptz NOT NULL,
  interval_seconds   integer NOT NULL DEFAULT 0, -- 0: not told yet (no heartbeat)
  rejected_revision  integer,
  rejected_hash      text,
  rejected_reason    text,
  -- Time of the report that set (or cleared: revision null) the rejection above.
  rejected_at        timestamptz,
  gone_at            timestamptz,
  PRIMARY KEY (namespace, environment, instance_id)
);
CREATE INDEX instances_present ON instances (namespace, environment) WHERE gone_at IS NULL;
CREATE INDEX instances_gone ON instances (gone_at) WHERE gone_at IS NOT NULL;

-- Applied/rejected reports per revision, for convergence (how many applied, how long it took).
CREATE TABLE revision_reports (
  namespace    text NOT NULL,
  environment  text NOT NULL,
  revision     integer NOT NULL,
  instance_id  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('applied', 'rejected')),
  reported_at  timestamptz NOT NULL,
  PRIMARY KEY (namespace, environment, revision, instance_id, status)
);

-- Findings. One open finding per key (kind + namespace + environment + instance, or without the
-- instance for document findings). `resolving`: no longer true, resolved once it stays so for
-- the quiet period; true again in that period, it re-opens silently (no second announcement).
CREATE TABLE findings (
  id                    uuid PRIMARY KEY,
  finding_key           text NOT NULL,
  kind                  text NOT NULL CHECK (kind IN ('stale', 'rejected', 'divergent', 'source', 'policy')),
  namespace             text NOT NULL,
  environment           text NOT NULL,
  service               text,
  instance_ids          text[] NOT NULL DEFAULT '{}',
  expected_revision     integer,
  expected_hash         text,
  actual_revision       integer,
  actual_hash           text,
  severity              text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  status                text NOT NULL CHECK (status IN ('open', 'resolving', 'resolved')),
  summary               text NOT NULL,
  reason                text,
  details               jsonb NOT NULL DEFAULT '{}'::jsonb,
  first_seen_at         timestamptz NOT NULL,
  last_seen_at          timestamptz NOT NULL,
  resolving_since       timestamptz,
  resolution            text,
  resolved_at           timestamptz,
  reopen_count          integer NOT NULL DEFAULT 0,
  remediation_attempts  integer NOT NULL DEFAULT 0,
  last_remediation_at   timestamptz,
  escalated_at          timestamptz
);
CREATE UNIQUE INDEX findings_one_active ON findings (finding_key) WHERE status <> 'resolved';
CREATE INDEX findings_by_target ON findings (namespace, environment, status);
CREATE INDEX findings_resolved_at ON findings (resolved_at) WHERE status = 'resolved';

-- Compliance policies, owned by the drift-detector: rules over JSON paths for one environment,
-- optionally only for namespaces matching a glob.
CREATE TABLE policies (
  id                 uuid PRIMARY KEY,
  name               text NOT NULL,
  description        text NOT NULL DEFAULT '',
  environment        text NOT NULL,
  namespace_pattern  text NOT NULL DEFAULT '*',
  severity           text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  rules              jsonb NOT NULL,
  enabled            boolean NOT NULL DEFAULT true,
  created_by         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_by         text NOT NULL,
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (environment, name)
);

-- Remediation mode per (namespace, environment); absent = report.
CREATE TABLE remediation_modes (
  namespace    text NOT NULL,
  environment  text NOT NULL,
  mode         text NOT NULL CHECK (mode IN ('off', 'report', 'remediate')),
  updated_by   text NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (namespace, environment)
);

-- Every resync the detector sent, and for which finding.
CREATE TABLE remediations (
  id               uuid PRIMARY KEY,
  finding_id       uuid NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
  namespace        text NOT NULL,
  environment      text NOT NULL,
  service          text NOT NULL,
  instance_id      text NOT NULL,
  action           text NOT NULL CHECK (action IN ('resync')),
  target_revision  integer NOT NULL,
  attempt          integer NOT NULL,
  request_id       text NOT NULL,
  requested_at     timestamptz NOT NULL
);
CREATE INDEX remediations_by_finding ON remediations (finding_id);

-- Down Migration
DROP TABLE remediations;
DROP TABLE remediation_modes;
DROP TABLE policies;
DROP TABLE findings;
DROP TABLE revision_reports;
DROP TABLE instances;
DROP TABLE revision_hashes;
DROP TABLE heads;
