import { quoteIdent, type SealingKeys } from "@nexus/kit";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import { copyInSql, qualified } from "../bundle/bundle-fns.js";
import { BundleError, openPart } from "../bundle/bundle-reader.js";
import type { Manifest, TablePart } from "../bundle/bundle-types.js";
import { pipeAll } from "../bundle/hash-stream.js";
import { HISTORY_TABLES } from "../bundle/history-fns.js";
import type { BundleStorage } from "../storage/storage-types.js";

async function copyPart(
  client: pg.ClientBase,
  target: { schema: string; table: string },
  storage: BundleStorage,
  manifest: Manifest,
  part: TablePart,
  keys: SealingKeys | null,
): Promise<void> {
  const { source, stages } = await openPart(storage, manifest, part, keys);
  const ingest = client.query(copyStreams.from(copyInSql(target.schema, target.table, part)));
  await pipeAll([source, ...stages, ingest]);
}

/**
 * Load one table of the chain's last backup into `target` (a scratch table, or the real one after
 * it was emptied): its own part, or for a history table of an incremental the whole chain: the
 * full backup's rows, then per incremental the rows of reset groups deleted and its rows added.
 */
export async function ingestTable(input: {
  client: pg.ClientBase;
  target: { schema: string; table: string };
  chain: Manifest[];
  part: TablePart;
  storage: BundleStorage;
  keys: SealingKeys | null;
}): Promise<void> {
  const { client, target, chain, part, storage, keys } = input;
  const last = chain.at(-1)!;
  if (!part.delta) return copyPart(client, target, storage, last, part, keys);
  const history = HISTORY_TABLES.find((h) => h.schema === part.schema && h.table === part.table);
  if (!history)
    throw new BundleError(
      "corrupt",
      `${last.id} stores ${part.schema}.${part.table} as a delta, which no history table is`,
    );
  const into = qualified(target.schema, target.table);
  for (const [i, m] of chain.entries()) {
    const link = m.tables.find((t) => t.schema === part.schema && t.table === part.table);
    if (!link) throw new BundleError("corrupt", `${m.id} lacks table ${part.schema}.${part.table}`);
    if (i === 0 && link.delta)
      throw new BundleError("corrupt", `the chain of ${last.id} does not start with a full copy`);
    if (i > 0 && !link.delta) await client.query(`DELETE FROM ${into}`);
    else if (link.delta && link.delta.resets.length > 0)
      await client.query(`DELETE FROM ${into} WHERE ${quoteIdent(history.group)} = ANY($1)`, [
        link.delta.resets,
      ]);
    await copyPart(client, target, storage, m, link, keys);
  }
}
