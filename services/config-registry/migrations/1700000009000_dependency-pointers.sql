-- Up Migration
-- Which parts of the namespace it depends on a namespace reads (the JSON pointers its references
-- follow into that namespace's merged document, sorted), so that a layer write re-resolves only
-- the readers whose parts it changed. NULL: not known (rows from before this column), which a
-- write treats as every pointer until the reader is resolved again.
ALTER TABLE namespace_dependencies ADD COLUMN pointers text[];

-- Down Migration
ALTER TABLE namespace_dependencies DROP COLUMN pointers;
