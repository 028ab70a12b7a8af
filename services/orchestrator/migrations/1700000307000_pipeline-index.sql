-- Up Migration

-- Orchestrator instances keep in memory which (namespace, source) pairs a pipeline promotes from
-- and read this counter once per config.changed batch (one row, instead of the pipelines joined
-- with their versions). Every statement that changes `pipelines` moves it in its own transaction,
-- so a copy read at an older version is known stale at the next batch.
CREATE TABLE pipeline_index (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version  bigint NOT NULL
);
INSERT INTO pipeline_index (only_row, version) VALUES (true, 0);

CREATE FUNCTION pipeline_index_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE pipeline_index SET version = version + 1;
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
