-- Up Migration
-- Layer writes read without a lock and commit with a compare-and-swap on this column: every change
-- that can alter what a namespace resolves to (layers, variables, environments, schema) bumps it.
ALTER TABLE namespaces ADD COLUMN write_version bigint NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE namespaces DROP COLUMN write_version;
