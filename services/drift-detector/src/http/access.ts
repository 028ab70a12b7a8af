import { type AccessScope, canAccess, type Role } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/**
 * May the caller see a row of this scope? Until the kit's authentication hook is installed no
 * request carries a principal (undefined, not null) and every route is open, as in the registry;
 * once it is, rows are filtered by the caller's grants.
 */
export function mayView(request: FastifyRequest, scope: AccessScope, role: Role = "viewer"): boolean {
  if (request.principal === undefined) return true;
  return canAccess(request.principal, role, scope);
}

export const actorOf = (request: FastifyRequest): string => request.principal?.name ?? "anonymous";

export const targetScope = (request: FastifyRequest): AccessScope => {
  const p = request.params as { ns?: string; env?: string };
  return { namespace: p.ns, environment: p.env };
};
