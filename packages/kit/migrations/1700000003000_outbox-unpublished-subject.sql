-- Up Migration
-- A write that hands its events to the relay from memory asks, in its own commit, which rows of
-- the same subjects are still unpublished (`outboxPlacesSql`): one index probe per event, also
-- while a NATS outage leaves thousands of rows waiting.
CREATE INDEX outbox_unpublished_subject ON outbox (subject, seq) WHERE published_at IS NULL;

-- Down Migration
DROP INDEX outbox_unpublished_subject;
