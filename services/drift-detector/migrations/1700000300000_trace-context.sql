-- Up Migration

-- The trace of the config.changed that moved each head (W3C traceparent), so the lease-held
-- reconciler, which judges the head later in its own loop, opens its evaluation span (and the
-- findings it raises) in the change's trace; evaluated_revision says that span was made.
ALTER TABLE heads ADD COLUMN trace_parent text;
ALTER TABLE heads ADD COLUMN evaluated_revision integer;

-- Down Migration
ALTER TABLE heads DROP COLUMN evaluated_revision;
ALTER TABLE heads DROP COLUMN trace_parent;
