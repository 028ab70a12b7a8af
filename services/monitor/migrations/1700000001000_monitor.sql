-- Up Migration

-- Every Nexus service instance the monitor has heard from: its last heartbeat as received (so a
-- restarted monitor still knows who should be beating, and can say who stopped).
CREATE TABLE service_instances (
  service       text NOT NULL,
  instance_id   text NOT NULL,
  last_seen_at  timestamptz NOT NULL,
  heartbeat     jsonb NOT NULL,
  PRIMARY KEY (service, instance_id)
);

-- Health history, downsampled: one row per instance per bucket (HEALTH_BUCKET_SECONDS), the worst
-- status seen in it and the largest gauges; deleted after HEALTH_RETENTION_DAYS.
CREATE TABLE health_samples (
  service              text NOT NULL,
  instance_id          text NOT NULL,
  bucket               timestamptz NOT NULL,
  status               text NOT NULL,
  beats                integer NOT NULL,
  outbox_backlog       integer,
  consumer_pending     integer NOT NULL,
  consumer_redelivered integer NOT NULL,
  dead_letters         integer NOT NULL,
  PRIMARY KEY (service, instance_id, bucket)
);
CREATE INDEX health_samples_bucket ON health_samples (bucket);

-- Alert rules as numbered versions of the whole rule set; the newest is in force.
CREATE TABLE alert_rule_versions (
  version     integer PRIMARY KEY,
  rules       jsonb NOT NULL,
  author      text NOT NULL,
  comment     text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per fingerprint whose condition is (or was) true: pending until its rule's `for` has
-- passed, then firing; resolved when the condition stops. A pending alert that clears is deleted.
CREATE TABLE monitor_alerts (
  fingerprint   text PRIMARY KEY,
  rule          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('pending', 'firing', 'resolved')),
  severity      text NOT NULL,
  summary       text NOT NULL,
  labels        jsonb NOT NULL,
  active_since  timestamptz NOT NULL,
  fired_at      timestamptz,
  resolved_at   timestamptz,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX monitor_alerts_status ON monitor_alerts (status);

-- What each (namespace, environment) runs, from config.changed: the dashboard's grid.
CREATE TABLE config_heads (
  namespace    text NOT NULL,
  environment  text NOT NULL,
  revision     integer NOT NULL,
  hash         text NOT NULL,
  actor        text NOT NULL,
  source       text NOT NULL,
  changed_at   timestamptz NOT NULL,
  PRIMARY KEY (namespace, environment)
);

-- Open drift findings, from drift.detected / drift.resolved (the rule "finding open longer than").
CREATE TABLE open_findings (
  finding_id   text PRIMARY KEY,
  kind         text NOT NULL,
  namespace    text NOT NULL,
  environment  text NOT NULL,
  severity     text NOT NULL,
  summary      text NOT NULL,
  opened_at    timestamptz NOT NULL
);
