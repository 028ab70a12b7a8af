-- Each scheduled time a backup schedule fired for, claimed before it runs: a clock stepped back
-- (NTP, a restored VM, a host with a wrong clock taking the lease) reaches the same time again,
-- and must not start a second backup for it.
CREATE TABLE schedule_slots (
  job        text NOT NULL,
  slot       timestamptz NOT NULL,
  fired_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job, slot)
);
