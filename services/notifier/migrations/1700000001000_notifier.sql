-- Up Migration

-- The routing configuration (route tree, receivers, inhibition rules) as numbered versions. The
-- newest row is in force; older rows are the history. Receiver secrets live here (column
-- `config`) and are redacted whenever a version is read through the API.
CREATE TABLE routing_versions (
  version     integer PRIMARY KEY,
  config      jsonb NOT NULL,
  author      text NOT NULL,
  comment     text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE silences (
  id          uuid PRIMARY KEY,
  matchers    jsonb NOT NULL,
  starts_at   timestamptz NOT NULL,
  ends_at     timestamptz NOT NULL,
  created_by  text NOT NULL,
  comment     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expired_by  text,
  CHECK (ends_at > starts_at)
);
CREATE INDEX silences_active ON silences (ends_at);

-- One row per fingerprint: its current state. `status` is firing, resolved, or notice (a one-off
-- message such as config.changed that never resolves).
CREATE TABLE alerts (
  fingerprint       text PRIMARY KEY,
  status            text NOT NULL CHECK (status IN ('firing', 'resolved', 'notice')),
  event_type        text NOT NULL,
  severity          text NOT NULL,
  summary           text NOT NULL,
  details           text NOT NULL DEFAULT '',
  labels            jsonb NOT NULL DEFAULT '{}',
  links             jsonb NOT NULL DEFAULT '[]',
  source            text NOT NULL,
  action_taken      text,
  starts_at         timestamptz NOT NULL,
  ends_at           timestamptz,
  last_received_at  timestamptz NOT NULL DEFAULT now(),
  received_count    integer NOT NULL DEFAULT 1,
  acked_by          text,
  acked_at          timestamptz,
  ack_comment       text
);
CREATE INDEX alerts_firing ON alerts (status) WHERE status = 'firing';
CREATE INDEX alerts_recent ON alerts (last_received_at DESC);

-- What happened to each alert, in order: raised, re-raised, resolved, acked, muted, notified.
CREATE TABLE alert_history (
  id           bigserial PRIMARY KEY,
  fingerprint  text NOT NULL,
  kind         text NOT NULL,
  at           timestamptz NOT NULL DEFAULT now(),
  actor        text,
  detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_history_fp ON alert_history (fingerprint, id);

-- Aggregation groups: one per (route, receiver, values of the route's group_by labels).
-- `next_flush_at` is when the group must be looked at next (null: nothing to do).
CREATE TABLE alert_groups (
  group_key           text PRIMARY KEY,
  receiver            text NOT NULL,
  route_path          text NOT NULL,
  group_labels        jsonb NOT NULL,
  group_wait_ms       integer NOT NULL,
  group_interval_ms   integer NOT NULL,
  repeat_interval_ms  integer NOT NULL,
  next_flush_at       timestamptz,
  last_notified_at    timestamptz,
  last_notified_state text NOT NULL DEFAULT ''
);
CREATE INDEX alert_groups_due ON alert_groups (next_flush_at) WHERE next_flush_at IS NOT NULL;

-- Which alerts a group holds, and in which state the group last told its receiver about each.
CREATE TABLE alert_group_members (
  group_key        text NOT NULL REFERENCES alert_groups (group_key) ON DELETE CASCADE,
  fingerprint      text NOT NULL REFERENCES alerts (fingerprint) ON DELETE CASCADE,
  notified_status  text,
  PRIMARY KEY (group_key, fingerprint)
);
CREATE INDEX alert_group_members_fp ON alert_group_members (fingerprint);

-- The delivery queue and log: one row per message to one receiver. Workers claim due rows with
-- FOR UPDATE SKIP LOCKED and a lease (`claimed_until`); a worker that dies mid-send leaves the
-- lease to expire and another instance sends again with the same dedup key (at least once).
CREATE TABLE deliveries (
  id                uuid PRIMARY KEY,
  receiver          text NOT NULL,
  receiver_type     text NOT NULL,
  group_key         text,
  action            text NOT NULL,
  dedup_key         text NOT NULL,
  fingerprints      text[] NOT NULL,
  message           jsonb NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
  attempts          integer NOT NULL DEFAULT 0,
  max_attempts      integer NOT NULL,
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  claimed_until     timestamptz,
  last_status_code  integer,
  last_error        text,
  dead_reason       text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at      timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_dead ON deliveries (updated_at DESC) WHERE status = 'dead';
CREATE INDEX deliveries_fingerprints ON deliveries USING gin (fingerprints);

-- Down Migration
DROP TABLE deliveries;
DROP TABLE alert_group_members;
DROP TABLE alert_groups;
DROP TABLE alert_history;
DROP TABLE alerts;
DROP TABLE silences;
DROP TABLE routing_versions;
