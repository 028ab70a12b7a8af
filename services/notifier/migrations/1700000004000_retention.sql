-- Up Migration

-- The retention job finds old rows by age, in batches: indexes for the two scans that had none.
CREATE INDEX alert_history_at ON alert_history (at);
CREATE INDEX deliveries_delivered ON deliveries (updated_at) WHERE status = 'delivered';

-- Down Migration
DROP INDEX deliveries_delivered;
DROP INDEX alert_history_at;
