import { randomBytes } from "node:crypto";
import { quoteIdent, type SealingKeys } from "@nexus/kit";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import { copyOutSql, scratchTableName, scratchTableSql } from "../bundle/bundle-fns.js";
import type { Manifest } from "../bundle/bundle-types.js";
import { createDigestStream, drain, pipeAll } from "../bundle/hash-stream.js";
import type { BundleStorage } from "../storage/storage-types.js";
import { ingestTable } from "./ingest.js";

export interface TableCheck {
  table: string;
  rows: number;
  expectedRows: number;
  matches: boolean;
}

export interface ScratchReport {
  tables: TableCheck[];
  rows: number;
  /** Tables whose restored rows differ from the source at the snapshot (count or ordered hash). */
  mismatches: TableCheck[];
}

/**
 * The verification drill: restore every part into a scratch schema, then read each table back in
 * the bundle's order and compare its row count and ordered content hash with what the source held
 * at the snapshot (recorded by the backup from the same COPY). All in one transaction that is
 * rolled back: the scratch schema never outlives the drill, even if the process dies.
 * The caller checks the parts' checksums first (checkParts).
 */
export async function verifyInScratch(input: {
  client: pg.ClientBase;
  storage: BundleStorage;
  /** The backup's chain, oldest first (just the backup for a full one). */
  chain: Manifest[];
  keys: SealingKeys | null;
  onTable?: (done: number, total: number, table: string) => void | Promise<void>;
}): Promise<ScratchReport> {
  const { client, storage, chain, keys } = input;
  const manifest = chain.at(-1)!;
  const scratch = `backup_verify_${randomBytes(6).toString("hex")}`;
  const tables: TableCheck[] = [];
  await client.query("BEGIN");
  try {
    await client.query(`CREATE SCHEMA ${quoteIdent(scratch)}`);
    let done = 0;
    for (const part of manifest.tables) {
      const label = `${part.schema}.${part.table}`;
      await input.onTable?.(done, manifest.tables.length, label);
      await client.query(scratchTableSql(scratch, part));
      await ingestTable({
        client,
        target: { schema: scratch, table: scratchTableName(part) },
        chain,
        part,
        storage,
        keys,
      });

      const digest = createDigestStream({ countRows: true });
      const out = client.query(copyStreams.to(copyOutSql(scratch, scratchTableName(part), part)));
      await pipeAll([out, digest.stream, drain()]);
      const got = digest.result();
      tables.push({
        table: label,
        rows: got.rows,
        expectedRows: part.rows,
        matches: got.rows === part.rows && got.sha256 === part.contentSha256,
      });
      done++;
    }
  } finally {
    await client.query("ROLLBACK").catch(() => undefined);
  }
  return {
    tables,
    rows: tables.reduce((n, t) => n + t.rows, 0),
    mismatches: tables.filter((t) => !t.matches),
  };
}
