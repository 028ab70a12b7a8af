import { NotFoundError, type Pool, withTransaction } from "@nexus/kit";
import { contentHash } from "../documents/document-fns.js";
import { compileSchema } from "../documents/schema-fns.js";
import { namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { ResolveCache } from "../resolve/resolve-cache.js";
import { retryConcurrentChange } from "../resolve/resolve-conflicts.js";
import type { ResolveService } from "../resolve/resolve-service.js";
import type { NamespaceState } from "../resolve/resolve-types.js";
import type { SchemaStore, StoredSchema } from "./schema-store.js";

export interface SchemaServiceDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "lockByName" | "findByName" | "bumpWriteVersion">;
  schemas: SchemaStore;
  resolve: Pick<ResolveService, "recompute" | "loadStates">;
  cache: Pick<ResolveCache, "replace">;
  /** After a commit that enqueued events. */
  wakeOutbox: () => void;
}

export function createSchemaService(deps: SchemaServiceDeps) {
  return {
    async get(namespace: string): Promise<StoredSchema> {
      if (!(await deps.namespaces.findByName(deps.pool, namespace))) throw namespaceNotFound(namespace);
      const found = await deps.schemas.find(deps.pool, namespace);
      if (!found) throw new NotFoundError("schema_not_found", `Namespace ${namespace} has no JSON Schema`);
      return found;
    },

    /** Refused (422) when the schema is not a valid JSON Schema or the current config breaks it. */
    async put(namespace: string, schema: Record<string, unknown>, author: string): Promise<StoredSchema> {
      compileSchema(schema);
      const changed = await retryConcurrentChange(() =>
        withTransaction(deps.pool, async (client) => {
          if (!(await deps.namespaces.lockByName(client, namespace))) throw namespaceNotFound(namespace);
          const states = new Map<string, NamespaceState>();
          await deps.resolve.loadStates(client, [namespace], states);
          const changed = await deps.resolve.recompute(client, {
            target: states.get(namespace)!,
            schemaOverride: schema,
            trigger: "write",
            layer: "schema",
            actor: author,
            source: "api",
          });
          await deps.schemas.upsert(client, {
            namespace,
            schema,
            hash: contentHash(schema),
            updatedBy: author,
          });
          await deps.namespaces.bumpWriteVersion(client, namespace);
          return changed;
        }),
      );
      await deps.cache.replace(changed);
      if (changed.length > 0) deps.wakeOutbox();
      return this.get(namespace);
    },

    async delete(namespace: string): Promise<void> {
      if (!(await deps.namespaces.findByName(deps.pool, namespace))) throw namespaceNotFound(namespace);
      if (!(await deps.schemas.delete(deps.pool, namespace))) {
        throw new NotFoundError("schema_not_found", `Namespace ${namespace} has no JSON Schema`);
      }
    },
  };
}
export type SchemaService = ReturnType<typeof createSchemaService>;
