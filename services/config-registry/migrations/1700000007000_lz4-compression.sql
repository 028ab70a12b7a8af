-- Up Migration
-- The resolved document (a few KB, rewritten on every change) and layer contents are compressed
-- with lz4 instead of pglz: pglz cost about 0.1 ms of Postgres CPU per write of a 3-6 KB document,
-- lz4 a fraction of that (test/bench/README.md). Only on servers built with lz4; elsewhere the
-- columns keep the default. Values already stored keep their compression until rewritten.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings
             WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
    ALTER TABLE resolved_heads ALTER COLUMN body SET COMPRESSION lz4,
                               ALTER COLUMN sealed SET COMPRESSION lz4;
    ALTER TABLE layers ALTER COLUMN content SET COMPRESSION lz4;
    ALTER TABLE revisions ALTER COLUMN content SET COMPRESSION lz4,
                          ALTER COLUMN diff SET COMPRESSION lz4;
  END IF;
END $$;

-- Down Migration
ALTER TABLE resolved_heads ALTER COLUMN body SET COMPRESSION default,
                           ALTER COLUMN sealed SET COMPRESSION default;
ALTER TABLE layers ALTER COLUMN content SET COMPRESSION default;
ALTER TABLE revisions ALTER COLUMN content SET COMPRESSION default,
                      ALTER COLUMN diff SET COMPRESSION default;
