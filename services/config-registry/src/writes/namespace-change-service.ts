import type { CreateNamespaceBody, UpdateNamespaceBody } from "@nexus/contracts";
import { ConflictError, ForbiddenError, type Pool, withTransaction } from "@nexus/kit";
import { canonicalJson, contentHash } from "../documents/document-fns.js";
import type { Caller } from "../http/caller.js";
import { namespaceNotFound } from "../namespaces/namespace-errors.js";
import type { NamespaceStore } from "../namespaces/namespace-store.js";
import type { Namespace } from "../namespaces/namespace-types.js";
import type { DependencyStore } from "../resolve/dependency-store.js";
import type { ResolveCache } from "../resolve/resolve-cache.js";
import { retryConcurrentChange } from "../resolve/resolve-conflicts.js";
import type { ResolveService } from "../resolve/resolve-service.js";
import type { ResolveStore } from "../resolve/resolve-store.js";
import type { NamespaceState } from "../resolve/resolve-types.js";
import { renderResolvedBody } from "../resolve/resolved-fns.js";

export interface NamespaceChangeServiceDeps {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "insert" | "lockByName" | "update" | "hasLayer" | "delete">;
  dependencies: Pick<DependencyStore, "dependents">;
  resolved: Pick<ResolveStore, "upsertMany" | "deleteEnvironment">;
  resolve: Pick<ResolveService, "recompute" | "loadStates">;
  cache: Pick<ResolveCache, "replace" | "evict">;
  /** After a commit that enqueued events. */
  wakeOutbox: () => void;
  defaultEnvironments: readonly string[];
  /** Environments whose content changes need an approver or an admin (PROTECTED_ENVIRONMENTS). */
  protectedEnvironments?: readonly string[];
}

const EMPTY = {};

/**
 * Creating, changing and deleting a namespace: each changes what resolves (a new namespace
 * resolves to {} in every environment; variables and environments re-resolve it and its readers,
 * as a layer write does; a deletion must leave no reader behind), so they are writes.
 */
export function createNamespaceChangeService(deps: NamespaceChangeServiceDeps) {
  /**
   * Variables resolve into every environment at once, with no revision of a layer to approve: in
   * a namespace with protected environments, only an admin of all of them may change them (a
   * value that must differ goes in a layer, where a change becomes a change request).
   */
  function assertMayChangeVariables(
    name: string,
    environments: readonly string[],
    caller: Pick<Caller, "can">,
  ): void {
    const reached = environments.filter((e) => deps.protectedEnvironments?.includes(e));
    const refused = reached.filter((environment) => !caller.can("admin", { namespace: name, environment }));
    if (refused.length === 0) return;
    throw new ForbiddenError(
      "protected_environment",
      `The variables of ${name} resolve into ${refused.join(", ")}, which ${refused.length === 1 ? "is" : "are"} protected: only an admin there may change them. Put a value that must change in a layer instead; changes there go through a change request.`,
      { field: "variables" },
    );
  }

  return {
    async create(body: CreateNamespaceBody): Promise<Namespace> {
      const environments = [...new Set(body.environments ?? deps.defaultEnvironments)];
      return withTransaction(deps.pool, async (client) => {
        const ns = await deps.namespaces.insert(client, { ...body, environments });
        if (!ns)
          throw new ConflictError("namespace_exists", `Namespace ${body.name} already exists`, {
            field: "name",
          });
        // Every environment resolves from the start (to {}), so reads never special-case "unwritten".
        const hash = contentHash(EMPTY);
        const canonical = canonicalJson(EMPTY);
        await deps.resolved.upsertMany(
          client,
          environments.map((environment) => ({
            namespace: ns.name,
            environment,
            revision: 0,
            hash,
            body: renderResolvedBody({ namespace: ns.name, environment, revision: 0, hash, canonical }),
          })),
        );
        return ns;
      });
    },

    /**
     * Description and owners are metadata. Variables and environments change what resolves, so
     * they go through the same re-resolve-and-validate path as a layer write.
     */
    async update(
      name: string,
      patch: UpdateNamespaceBody,
      caller: Pick<Caller, "name" | "can">,
      traceparent?: string,
    ): Promise<Namespace> {
      const actor = caller.name;
      const { ns, changed, removed } = await retryConcurrentChange(() =>
        withTransaction(deps.pool, async (client) => {
          const current = await deps.namespaces.lockByName(client, name);
          if (!current) throw namespaceNotFound(name);
          if (patch.variables !== undefined) assertMayChangeVariables(name, current.environments, caller);
          const environments = patch.environments ? [...new Set(patch.environments)] : current.environments;
          const removed = current.environments.filter((e) => !environments.includes(e));
          for (const environment of removed) {
            if (await deps.namespaces.hasLayer(client, name, environment)) {
              throw new ConflictError(
                "environment_in_use",
                `Environment ${environment} of ${name} still has an overlay; clear it before removing the environment`,
                { field: "environments" },
              );
            }
            await deps.resolved.deleteEnvironment(client, name, environment);
          }
          const updated = await deps.namespaces.update(client, name, { ...patch, environments });
          const resolutionChanged = patch.variables !== undefined || patch.environments !== undefined;
          if (!resolutionChanged) return { ns: updated, changed: [], removed };

          const states = new Map<string, NamespaceState>();
          await deps.resolve.loadStates(client, [name], states);
          const changed = await deps.resolve.recompute(client, {
            target: states.get(name)!,
            trigger: "variables",
            layer: "variables",
            actor,
            source: "api",
            traceparent,
          });
          return { ns: updated, changed, removed };
        }),
      );
      await deps.cache.evict(name, removed);
      await deps.cache.replace(changed);
      if (changed.length > 0) deps.wakeOutbox();
      return ns;
    },

    async delete(name: string): Promise<void> {
      const environments = await withTransaction(deps.pool, async (client) => {
        const ns = await deps.namespaces.lockByName(client, name);
        if (!ns) throw namespaceNotFound(name);
        const dependents = (await deps.dependencies.dependents(client, name)).filter((d) => d !== name);
        if (dependents.length > 0) {
          throw new ConflictError(
            "namespace_in_use",
            `Namespace ${name} is referenced by ${dependents.join(", ")}; remove those references first`,
            { details: { dependents } },
          );
        }
        await deps.namespaces.delete(client, name);
        return ns.environments;
      });
      await deps.cache.evict(name, environments);
    },
  };
}
export type NamespaceChangeService = ReturnType<typeof createNamespaceChangeService>;
