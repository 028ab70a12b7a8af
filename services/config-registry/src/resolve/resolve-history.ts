import { NotFoundError, type Pool } from "@nexus/kit";
import { canonicalJson, hashOfCanonical } from "../documents/document-fns.js";
import { BASE_LAYER } from "../layers/layer-types.js";
import { assertLayerOf, namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { RevisionStore } from "../revisions/revision-store.js";
import { mayHoldSecrets } from "../secrets/secret-doc-fns.js";
import { resolvedSecretForms } from "../secrets/secret-resolve-fns.js";
import type { SecretService } from "../secrets/secret-service.js";
import type { RevealOption } from "../secrets/secret-types.js";
import type { ResolveReadService } from "./resolve-read-service.js";
import type { ResolveService } from "./resolve-service.js";
import type { NamespaceState, ResolvedHead } from "./resolve-types.js";
import { renderResolvedBody } from "./resolved-fns.js";

/**
 * The resolved configuration as of a past namespace revision (`?revision=`): what an instance
 * starting during a wave rollout must run while its wave holds the previous revision. When the
 * environment has not changed since that revision, it is the current document exactly. Otherwise
 * the base layer and the environment's overlay are taken as they were at that revision and
 * resolved again; references to other namespaces, variables and secrets are resolved as they are
 * now (their history is not versioned with this namespace's), so the hash differs from the one
 * served then when one of those changed since.
 */
export function createResolveHistory(deps: {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName">;
  revisions: Pick<RevisionStore, "layersAt">;
  reads: Pick<ResolveReadService, "get">;
  resolve: Pick<ResolveService, "loadStates" | "loadReferenced" | "resolveIn">;
  secrets: Pick<SecretService, "reveal">;
}) {
  return {
    async at(namespace: string, environment: string, revision: number, options: RevealOption = {}) {
      const ns = await deps.namespaces.findByName(deps.pool, namespace);
      if (!ns) throw namespaceNotFound(namespace);
      assertLayerOf(ns, environment);
      if (revision > ns.headRevision)
        throw new NotFoundError(
          "revision_not_found",
          `Namespace ${namespace} has no revision ${revision} (its newest is ${ns.headRevision})`,
          { field: "revision" },
        );
      const head = await deps.reads.get(namespace, environment, options);
      if (head.revision <= revision) return head;
      const layers = [BASE_LAYER, environment];
      const [past, states] = await Promise.all([
        deps.revisions.layersAt(deps.pool, namespace, layers, revision),
        (async () => {
          const s = new Map<string, NamespaceState>();
          await deps.resolve.loadStates(deps.pool, [namespace], s);
          await deps.resolve.loadReferenced(deps.pool, s);
          return s;
        })(),
      ]);
      const state = states.get(namespace)!;
      for (const layer of layers) {
        const then = past.get(layer);
        if (then) {
          state.layers.set(layer, then.content);
          state.layerRevisions.set(layer, then.revision);
        } else {
          state.layers.delete(layer);
          state.layerRevisions.delete(layer);
        }
      }
      const { value } = deps.resolve.resolveIn(states, namespace, environment);
      const asOf = Math.max(0, ...[...past.values()].map((l) => l.revision));
      const canonical = canonicalJson(value);
      const at = { namespace, environment, revision: asOf };
      if (!mayHoldSecrets(canonical)) {
        const hash = hashOfCanonical(canonical);
        return { ...at, hash, body: renderResolvedBody({ ...at, hash, canonical }) } satisfies ResolvedHead;
      }
      const forms = resolvedSecretForms(value);
      const shown = options.revealSecrets
        ? canonicalJson(await deps.secrets.reveal(deps.pool, value, options.revealSecrets))
        : forms.canonical;
      return {
        ...at,
        hash: forms.hash,
        body: renderResolvedBody({
          ...at,
          hash: forms.hash,
          canonical: shown,
          secretDigests: forms.secretDigests,
        }),
      } satisfies ResolvedHead;
    },
  };
}
export type ResolveHistory = ReturnType<typeof createResolveHistory>;
