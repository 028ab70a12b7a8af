import type { RevisionRecordDto } from "@nexus/contracts";
import type { Pool, Queryable } from "@nexus/kit";
import { diffDocuments } from "../documents/document-fns.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import { holdsSecrets, redactDiff, secretPointers } from "../secrets/secret-doc-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { RevealOption } from "../secrets/secret-types.js";
import { namespaceRevisionNotFound, revisionNotFound } from "./revision-errors.js";
import { traceIdOf } from "./revision-fns.js";
import type { RevisionStore } from "./revision-store.js";
import type { Revision, RevisionSummary } from "./revision-types.js";

export interface RevisionServiceDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  revisions: RevisionStore;
  secrets: Pick<SecretService, "reveal">;
}

export function createRevisionService(deps: RevisionServiceDeps) {
  async function checkLayer(namespace: string, layer: string): Promise<void> {
    const ns = await deps.namespaces.findByName(deps.pool, namespace);
    if (!ns) throw namespaceNotFound(namespace);
    assertLayerOf(ns, layer);
  }

  async function find(
    q: Queryable,
    namespace: string,
    layer: string,
    revision: number,
    field: string,
  ): Promise<Revision> {
    const found = await deps.revisions.find(q, namespace, layer, revision);
    if (!found) throw revisionNotFound(namespace, layer, revision, field);
    return found;
  }

  return {
    async history(
      namespace: string,
      layer: string,
      options: { limit: number; before?: number | undefined },
    ): Promise<RevisionSummary[]> {
      await checkLayer(namespace, layer);
      return deps.revisions.list(deps.pool, namespace, layer, options);
    },

    /** Secrets `"***"` unless `revealSecrets`; the diff never shows them. */
    async get(
      namespace: string,
      layer: string,
      revision: number,
      options: RevealOption = {},
    ): Promise<Revision & { secretPaths: string[] }> {
      await checkLayer(namespace, layer);
      const found = await find(deps.pool, namespace, layer, revision, "n");
      if (!holdsSecrets(found.content)) return { ...found, secretPaths: [] };
      return {
        ...found,
        secretPaths: secretPointers(found.content),
        content: await deps.secrets.reveal(
          deps.pool,
          found.content,
          options.revealSecrets ?? false,
          namespace,
        ),
        diff: redactDiff(found.diff as Parameters<typeof redactDiff>[0]),
      };
    },

    /**
     * RFC 6902 operations turning revision `from` into revision `to` (0 = empty document); a
     * secret is `"***"` whoever asks (a changed secret is a `replace` of it).
     */
    async diff(namespace: string, layer: string, from: number, to: number) {
      await checkLayer(namespace, layer);
      const load = async (n: number, field: string) =>
        n === 0 ? {} : (await find(deps.pool, namespace, layer, n, field)).content;
      const [a, b] = await Promise.all([load(from, "from"), load(to, "to")]);
      return { namespace, layer, from, to, operations: redactDiff(diffDocuments(a, b)) };
    },

    /**
     * Who wrote a revision, when, and the config.changed events it published, for the timeline
     * of one change (`nexus trace`). `mayViewEnvironment` leaves out events the caller may not see.
     */
    async record(
      namespace: string,
      revision: number,
      mayViewEnvironment: (environment: string) => boolean,
    ): Promise<RevisionRecordDto> {
      const ns = await deps.namespaces.findByName(deps.pool, namespace);
      if (!ns) throw namespaceNotFound(namespace);
      const [found, events] = await Promise.all([
        deps.revisions.findAnyLayer(deps.pool, namespace, revision),
        deps.revisions.eventsOf(deps.pool, namespace, revision),
      ]);
      if (!found) throw namespaceRevisionNotFound(namespace, revision);
      return {
        ...found,
        traceId: traceIdOf(events.map((e) => e.traceparent)),
        events: events
          .filter((e) => mayViewEnvironment(e.environment))
          .map(({ traceparent: _traceparent, ...event }) => event),
      };
    },
  };
}
export type RevisionService = ReturnType<typeof createRevisionService>;
