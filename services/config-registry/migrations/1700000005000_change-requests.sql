-- Up Migration
-- Writes to protected environments by people who may not apply them directly wait here for an
-- approver other than their author. `content` is the proposed layer document in its stored
-- (sealed) form: secrets in it are encrypted like in a revision.
CREATE TABLE change_requests (
  id              uuid PRIMARY KEY,
  namespace       text NOT NULL REFERENCES namespaces (name) ON DELETE CASCADE,
  layer           text NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('replace', 'patch', 'rollback')),
  content         jsonb NOT NULL,
  base_revision   integer NOT NULL,
  message         text NOT NULL DEFAULT '',
  author          text NOT NULL,
  author_subject  text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_by      text,
  decided_at      timestamptz,
  comment         text NOT NULL DEFAULT '',
  revision        integer
);
CREATE INDEX change_requests_pending ON change_requests (namespace, created_at) WHERE status = 'pending';
CREATE INDEX change_requests_by_namespace ON change_requests (namespace, created_at);

-- Down Migration
DROP TABLE change_requests;
