-- Up Migration
-- A resolved head is rewritten on every change of its environment. A ~3 KB document compresses
-- (lz4) to ~2 KB, just over what a row holds before Postgres moves the value out of line, so each
-- write also inserted the body into the TOAST table and its index. Rows of up to a page now stay
-- inline, uncompressed: ~4% less Postgres CPU per write (test/bench/README.md (z)). One row per
-- namespace and environment, so the disk it costs stays small; larger documents are still
-- compressed and moved out of line as before. Rows already stored change when next written.
ALTER TABLE resolved_heads SET (toast_tuple_target = 8160);

-- Down Migration
ALTER TABLE resolved_heads RESET (toast_tuple_target);
