import { Writable } from "node:stream";
import type { SealingKeys } from "@nexus/kit";
import { BundleError, openPart } from "../bundle/bundle-reader.js";
import type { Manifest } from "../bundle/bundle-types.js";
import { pipeAll } from "../bundle/hash-stream.js";
import { HISTORY_TABLES } from "../bundle/history-fns.js";
import type { BundleStorage } from "../storage/storage-types.js";
import { type ChosenLayer, createLayerChooser, revisionColumns, splitCopyRow } from "./point-in-time-fns.js";

const REVISIONS = HISTORY_TABLES.find((h) => h.schema === "config_registry" && h.table === "revisions")!;

/** A sink that hands every complete line of COPY text on (rows end with a newline; newlines in values are escaped). */
function lineSink(onLine: (line: string) => void): Writable {
  let rest: Buffer = Buffer.alloc(0);
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      try {
        let data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
        let nl = data.indexOf(10);
        while (nl !== -1) {
          onLine(data.subarray(0, nl).toString("utf8"));
          data = data.subarray(nl + 1);
          nl = data.indexOf(10);
        }
        rest = Buffer.from(data);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    final(callback) {
      callback(rest.length > 0 ? new Error("the revisions part ends inside a row") : null);
    },
  });
}

/**
 * One namespace's layers at a point in time, from the registry's revision history in a backup:
 * the revisions part of each link of the chain is streamed (decrypted, gunzipped, split into
 * rows) in order, applying the chain as a restore does (a full copy starts over, a reset of the
 * namespace drops its earlier rows). Only one revision per layer is held in memory.
 */
export async function layersAt(input: {
  storage: BundleStorage;
  chain: Manifest[];
  keys: SealingKeys | null;
  namespace: string;
  /** Microseconds since the epoch; null: the backup's point (every revision it holds). */
  atMicros: number | null;
  onRows?: (rows: number, link: string) => void | Promise<void>;
}): Promise<{ layers: ChosenLayer[]; revisionsRead: number; oldest: string | null }> {
  const { storage, chain, keys, namespace } = input;
  const chooser = createLayerChooser(namespace, input.atMicros);
  let scanned = 0;
  for (const [i, m] of chain.entries()) {
    const part = m.tables.find((t) => t.schema === REVISIONS.schema && t.table === REVISIONS.table);
    if (!part) throw new BundleError("corrupt", `${m.id} has no part for the registry's revisions`);
    if (i > 0 && !part.delta) chooser.reset();
    else if (part.delta?.resets.includes(namespace)) chooser.reset();
    const cols = revisionColumns(part.columns);
    const { source, stages } = await openPart(storage, m, part, keys);
    await pipeAll([
      source,
      ...stages,
      lineSink((line) => {
        chooser.offer(splitCopyRow(line), cols);
        scanned++;
      }),
    ]);
    await input.onRows?.(scanned, m.id);
  }
  const { rows, oldest } = chooser.summary();
  return { layers: chooser.chosen(), revisionsRead: rows, oldest };
}
