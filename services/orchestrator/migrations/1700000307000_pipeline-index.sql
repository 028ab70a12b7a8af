-- Up Migration

-- Orchestrator instances keep in memory which (namespace, source) pairs a pipeline promotes from
-- (a config.changed batch with no match then costs no read). Every statement that changes
-- `pipelines` moves this counter in its own transaction and says so at commit on the channel
-- `<schema>_pipelines`, so an instance knows when its copy is stale, and a slow check of the
-- counter catches a notification its connection missed.
CREATE TABLE pipeline_index (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint NOT NULL
);
INSERT INTO pipeline_index (only_row, version) VALUES (true, 0);

CREATE FUNCTION pipeline_index_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
BEGIN
  UPDATE pipeline_index SET version = version + 1 RETURNING version INTO v;
  PERFORM pg_notify(TG_TABLE_SCHEMA || '_pipelines', v::text);
  RETURN NULL;
END
$$;
-- Per statement, not per row: a statement that changes nothing still bumps (harmless).
CREATE TRIGGER pipelines_index_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pipelines
  FOR EACH STATEMENT EXECUTE FUNCTION pipeline_index_bump();

-- Down Migration
DROP TRIGGER pipelines_index_bump ON pipelines;
DROP FUNCTION pipeline_index_bump();
DROP TABLE pipeline_index;
