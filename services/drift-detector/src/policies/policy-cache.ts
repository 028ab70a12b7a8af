import type { Pool } from "@nexus/kit";
import type { PolicyStore } from "./policy-store.js";
import type { PolicyDto } from "./policy-types.js";

export interface PolicyCache {
  /**
   * The enabled policies, at least as new as `version` (the policies' version a statement just
   * read): from memory when nothing changed since the last load, else loaded again (one statement).
   */
  enabledAt(version: number): Promise<readonly PolicyDto[]>;
}

/**
 * Policies change only through the detector's own API, rarely; config changes are many. Each
 * instance keeps the enabled policies in memory with the version they were read at
 * (`policies_version`, moved by a trigger in every transaction that writes `policies`). A batch
 * statement reads the version with everything else it reads, so a policy committed by any
 * instance before that statement is seen by it, exactly as when the list was read in the batch's
 * transaction: no notification or timing is involved, and a quiet list costs no read at all.
 */
export function createPolicyCache(deps: { pool: Pool; store: Pick<PolicyStore, "enabledWithVersion"> }) {
  let cached: { version: number; enabled: PolicyDto[] } | undefined;
  let loading: Promise<{ version: number; enabled: PolicyDto[] }> | undefined;

  const load = () => {
    loading ??= deps.store.enabledWithVersion(deps.pool).finally(() => {
      loading = undefined;
    });
    return loading;
  };

  return {
    async enabledAt(version) {
      // Versions only grow, so a list read at a later version is as good.
      if (cached && cached.version >= version) return cached.enabled;
      let fresh = await load();
      // A load already under way may have begun before the caller's statement: read once more.
      if (fresh.version < version) fresh = await load();
      if (!cached || fresh.version > cached.version) cached = fresh;
      return cached.enabled;
    },
  } satisfies PolicyCache;
}
