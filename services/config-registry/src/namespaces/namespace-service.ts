import type { Pool } from "@nexus/kit";
import { namespaceNotFound } from "./namespace-errors.js";
import type { NamespaceStore } from "./namespace-store.js";
import type { Namespace } from "./namespace-types.js";

/**
 * Reading namespaces. Creating, changing and deleting one changes what resolves, so those live
 * with the other writes (`writes/namespace-change-service.ts`).
 */
export function createNamespaceService(deps: {
  pool: Pool;
  namespaces: Pick<NamespaceStore, "findByName" | "list">;
}) {
  return {
    async get(name: string): Promise<Namespace> {
      const ns = await deps.namespaces.findByName(deps.pool, name);
      if (!ns) throw namespaceNotFound(name);
      return ns;
    },

    /** A page of the namespaces `visible` lets through (the caller's grants), scanning on past hidden ones. */
    async list(options: {
      limit: number;
      after?: string | undefined;
      visible: (name: string) => boolean;
    }): Promise<Namespace[]> {
      const shown: Namespace[] = [];
      let after = options.after;
      for (;;) {
        const page = await deps.namespaces.list(deps.pool, { limit: options.limit, after });
        for (const ns of page) {
          if (options.visible(ns.name)) shown.push(ns);
          if (shown.length === options.limit) return shown;
        }
        if (page.length < options.limit) return shown;
        after = page[page.length - 1]!.name;
      }
    },
  };
}
export type NamespaceService = ReturnType<typeof createNamespaceService>;
