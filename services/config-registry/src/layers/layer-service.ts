import { ConflictError, NotFoundError, type Pool, type Queryable, withTransaction } from "@nexus/kit";
import { assertJsonObject } from "../documents/content-fns.js";
import { applyMergePatch, contentHash, diffDocuments } from "../documents/document-fns.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { Namespace } from "../namespaces/namespace-types.js";
import type { ResolveCache } from "../resolve/resolve-cache.js";
import type { ResolveService } from "../resolve/resolve-service.js";
import type { NamespaceState } from "../resolve/resolve-types.js";
import type { RevisionStore } from "../revisions/revision-store.js";
import type { LayerStore } from "./layer-store.js";
import { BASE_LAYER, type LayerHead, type WriteContext, type WriteResult } from "./layer-types.js";

export interface LayerServiceDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName" | "lockByName" | "update">;
  layers: Pick<LayerStore, "find" | "upsert">;
  revisions: Pick<RevisionStore, "insert">;
  resolve: Pick<ResolveService, "recompute" | "loadStates">;
  cache: Pick<ResolveCache, "replace">;
}

export function assertLayerOf(ns: Pick<Namespace, "name" | "environments">, layer: string): void {
  if (layer !== BASE_LAYER && !ns.environments.includes(layer)) {
    throw new NotFoundError(
      "environment_not_found",
      `Namespace ${ns.name} has no environment "${layer}" (it has: ${ns.environments.join(", ")}); the layer must be "base" or one of them`,
      { field: "layer" },
    );
  }
}

export function namespaceNotFound(name: string): NotFoundError {
  return new NotFoundError("namespace_not_found", `Namespace ${name} does not exist`, { field: "namespace" });
}

export function createLayerService(deps: LayerServiceDeps) {
  async function lockNamespace(q: Queryable, name: string): Promise<Namespace> {
    const ns = await deps.namespaces.lockByName(q, name);
    if (!ns) throw namespaceNotFound(name);
    return ns;
  }

  function checkExpected(head: LayerHead | null, ctx: WriteContext, namespace: string, layer: string): void {
    const current = head?.revision ?? 0;
    if (ctx.expectedRevision !== undefined && ctx.expectedRevision !== current) {
      throw new ConflictError(
        "revision_conflict",
        `Layer ${namespace}/${layer} is at revision ${current}, not ${ctx.expectedRevision}: someone changed it since you read it. Fetch it again and reapply your change.`,
        { field: "If-Match", details: { currentRevision: current, expectedRevision: ctx.expectedRevision } },
      );
    }
  }

  /**
   * The one write path (REST PUT/PATCH, rollback, NATS command): lock the namespace, check the
   * expected revision, re-resolve and validate everything the change touches, then store the
   * revision, the new heads and the events in one transaction.
   */
  async function write(
    namespace: string,
    layer: string,
    makeContent: (
      head: LayerHead | null,
      q: Queryable,
    ) => Promise<Record<string, unknown>> | Record<string, unknown>,
    ctx: WriteContext,
    trigger: "write" | "rollback" = "write",
  ): Promise<WriteResult> {
    const { result, changed } = await withTransaction(deps.pool, async (client) => {
      const ns = await lockNamespace(client, namespace);
      assertLayerOf(ns, layer);
      const head = await deps.layers.find(client, namespace, layer);
      checkExpected(head, ctx, namespace, layer);
      const content = assertJsonObject(await makeContent(head, client));
      const hash = contentHash(content);
      const previousRevision = head?.revision ?? 0;
      if (head && head.hash === hash && trigger === "write") {
        const unchanged: WriteResult = {
          namespace,
          layer,
          revision: head.revision,
          previousRevision,
          hash,
          changed: false,
          changedEnvironments: [],
        };
        return { result: unchanged, changed: [] };
      }

      const revision = ns.headRevision + 1;
      const states = new Map<string, NamespaceState>();
      await deps.resolve.loadStates(client, [namespace], states);
      const target = states.get(namespace)!;
      target.layers.set(layer, content);
      target.layerRevisions.set(layer, revision);

      const changedHeads = await deps.resolve.recompute(client, {
        target,
        ...(layer === BASE_LAYER ? {} : { environments: [layer] }),
        newRevision: revision,
        trigger,
        layer,
        actor: ctx.author,
        source: ctx.source,
        traceparent: ctx.traceparent,
      });
      await deps.revisions.insert(client, {
        namespace,
        revision,
        layer,
        content,
        hash,
        diff: diffDocuments(head?.content ?? {}, content),
        author: ctx.author,
        message: ctx.message,
        source: ctx.source,
      });
      await deps.layers.upsert(client, { namespace, layer, revision, content, hash });
      await deps.namespaces.update(client, namespace, { headRevision: revision });
      const written: WriteResult = {
        namespace,
        layer,
        revision,
        previousRevision,
        hash,
        changed: true,
        changedEnvironments: changedHeads.filter((h) => h.namespace === namespace).map((h) => h.environment),
      };
      return { result: written, changed: changedHeads };
    });
    await deps.cache.replace(changed);
    return result;
  }

  return {
    async get(namespace: string, layer: string): Promise<LayerHead> {
      const ns = await deps.namespaces.findByName(deps.pool, namespace);
      if (!ns) throw namespaceNotFound(namespace);
      assertLayerOf(ns, layer);
      const head = await deps.layers.find(deps.pool, namespace, layer);
      return head ?? { namespace, layer, revision: 0, content: {}, hash: contentHash({}), updatedAt: "" };
    },

    replace(namespace: string, layer: string, content: Record<string, unknown>, ctx: WriteContext) {
      return write(namespace, layer, () => content, ctx);
    },

    /** RFC 7396 JSON Merge Patch against the current head. */
    patch(namespace: string, layer: string, patch: Record<string, unknown>, ctx: WriteContext) {
      return write(
        namespace,
        layer,
        (head) => applyMergePatch(head?.content ?? {}, patch) as Record<string, unknown>,
        ctx,
      );
    },

    /** Used by rollback: content chosen inside the lock. */
    writeWith: write,
  };
}
export type LayerService = ReturnType<typeof createLayerService>;
