import type { Pool } from "@nexus/kit";
import { assertJsonObject } from "../documents/content-fns.js";
import { diffDocuments } from "../documents/document-fns.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { KnownDocumentsCache } from "../resolve/known-documents.js";
import { redactDiff } from "../secrets/secret-doc-fns.js";
import type { WriteService } from "./write-service.js";
import type { WriteStore } from "./write-store.js";
import type { WriteContext } from "./write-types.js";

/**
 * Layers of a namespace set back to contents taken from a backup of this registry (what the
 * backup service's point-in-time restore calls): each changed layer a new revision with source
 * `restore:<label>`, through the same write path as any write. Sealed secrets in the contents
 * are accepted as stored (they decrypt only with this registry's keys, bound to this namespace).
 * A dry run reports the diffs and writes nothing.
 */
export function createRestoreService(deps: {
  pool: Pool;
  writes: Pick<WriteStore, "readForWrite">;
  known: Pick<KnownDocumentsCache, "snapshot">;
  write: Pick<WriteService, "writeWith">;
}) {
  return {
    async restore(
      namespace: string,
      layers: Record<string, Record<string, unknown>>,
      ctx: Omit<WriteContext, "source" | "trustSealed"> & { label: string; dryRun: boolean },
    ) {
      const results: { layer: string; changed: boolean; revision: number; operations: unknown[] }[] = [];
      for (const layer of Object.keys(layers).sort()) {
        const content = assertJsonObject(layers[layer]);
        const current = await deps.writes.readForWrite(deps.pool, namespace, layer, {
          lock: false,
          known: deps.known.snapshot(namespace),
        });
        if (!current) throw namespaceNotFound(namespace);
        assertLayerOf(current.namespace, layer);
        const head = current.layers.find((l) => l.layer === layer);
        const operations = redactDiff(diffDocuments(head?.content ?? {}, content));
        if (ctx.dryRun) {
          results.push({ layer, changed: operations.length > 0, revision: head?.revision ?? 0, operations });
          continue;
        }
        const written = await deps.write.writeWith(namespace, layer, () => content, {
          ...ctx,
          source: `restore:${ctx.label}`,
          message: ctx.message || `Restore from ${ctx.label}`,
          trustSealed: true,
        });
        results.push({ layer, changed: written.changed, revision: written.revision, operations });
      }
      return { namespace, label: ctx.label, dryRun: ctx.dryRun, layers: results };
    },
  };
}
export type RestoreService = ReturnType<typeof createRestoreService>;
