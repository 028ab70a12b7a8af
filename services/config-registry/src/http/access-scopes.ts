import type { AccessRule, AccessScope } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/**
 * Where a registry request's namespace and environment are, for the per-route access rules.
 * The base layer feeds every environment: reading it needs a grant on the namespace, writing it
 * a grant on all of its environments (`*`).
 */
type Params = { ns?: string; layer?: string; env?: string };
const params = (request: FastifyRequest) => request.params as Params;
const ALL_ENVIRONMENTS = "*";

const namespaceScope = (request: FastifyRequest): AccessScope => ({ namespace: params(request).ns });

const wholeNamespaceScope = (request: FastifyRequest): AccessScope => ({
  namespace: params(request).ns,
  environment: ALL_ENVIRONMENTS,
});

const layerReadScope = (request: FastifyRequest): AccessScope => {
  const { ns, layer } = params(request);
  return { namespace: ns, environment: layer === "base" ? undefined : layer };
};

const layerWriteScope = (request: FastifyRequest): AccessScope => {
  const { ns, layer } = params(request);
  return { namespace: ns, environment: layer === "base" ? ALL_ENVIRONMENTS : layer };
};

const environmentScope = (request: FastifyRequest): AccessScope => ({
  namespace: params(request).ns,
  environment: params(request).env,
});

/** The rules the registry's routes use; a caller who may not see a namespace gets 404, not 403. */
export const access = {
  readNamespace: { role: "viewer", scope: namespaceScope, hideExistence: true },
  editNamespace: { role: "editor", scope: wholeNamespaceScope, hideExistence: true },
  deleteNamespace: { role: "admin", scope: namespaceScope, hideExistence: true },
  /** Restoring layers from a backup: admin on the whole namespace. */
  restoreNamespace: { role: "admin", scope: wholeNamespaceScope, hideExistence: true },
  readLayer: { role: "viewer", scope: layerReadScope, hideExistence: true },
  writeLayer: { role: "editor", scope: layerWriteScope, hideExistence: true },
  readResolved: { role: "viewer", scope: environmentScope, hideExistence: true },
  anyToken: { authenticated: true },
} as const satisfies Record<string, AccessRule>;
