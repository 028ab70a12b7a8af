-- Up Migration
-- Which events stream (by the server's creation time) the outbox relay last published to. A
-- different creation time means the stream, and everything it held, was lost (a wiped JetStream
-- store) and made again: the relay then re-publishes every event the outbox still keeps, so
-- durable consumers are made whole (their handlers are idempotent).
CREATE TABLE outbox_streams (
  stream   text PRIMARY KEY,
  created  text NOT NULL,
  seen_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE outbox_streams;
