-- Up Migration

-- The trace an alert and its deliveries belong to (W3C traceparent of the event or request that
-- raised the alert last), so the delivery worker, which runs later in its own loop, opens each
-- attempt's span in that trace: a config change's notification shows in the change's trace.
ALTER TABLE alerts ADD COLUMN trace_parent text;
ALTER TABLE deliveries ADD COLUMN trace_parent text;

-- Down Migration
ALTER TABLE deliveries DROP COLUMN trace_parent;
ALTER TABLE alerts DROP COLUMN trace_parent;
