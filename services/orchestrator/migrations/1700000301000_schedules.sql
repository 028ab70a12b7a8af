-- Up Migration

-- One row per scheduled time a pipeline fired at: the run it started commits with it, so a
-- lease handover or a catch-up after a restart never fires the same time twice.
CREATE TABLE schedule_fires (
  pipeline  text NOT NULL,
  fire_at   timestamptz NOT NULL,
  run_id    uuid,
  note      text NOT NULL DEFAULT '',
  fired_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, fire_at)
);

-- Down Migration
DROP TABLE schedule_fires;
