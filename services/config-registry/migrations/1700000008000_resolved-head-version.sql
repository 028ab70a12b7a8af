-- Up Migration
-- The order in which resolved heads were committed, for the caches: two writes that rewrite one
-- resolved document can update Redis and memory in the other order than they committed, and when
-- both leave its revision as it was (re-resolutions of a namespace that reads one that changed),
-- the revision cannot tell them apart. An upsert takes a new value after it holds the row's lock,
-- so a later commit of the same row always has a larger one.
CREATE SEQUENCE resolved_heads_version;
ALTER TABLE resolved_heads ADD COLUMN version bigint NOT NULL DEFAULT nextval('resolved_heads_version');
ALTER SEQUENCE resolved_heads_version OWNED BY resolved_heads.version;

-- Down Migration
ALTER TABLE resolved_heads DROP COLUMN version;
