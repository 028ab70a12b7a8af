import { type AccessScope, canAccess, type Role } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** May the caller see a row of this scope? Listings show only what the caller's grants cover. */
export function mayView(request: FastifyRequest, scope: AccessScope, role: Role = "viewer"): boolean {
  return canAccess(request.principal, role, scope);
}

export const actorOf = (request: FastifyRequest): string => request.principal?.name ?? "anonymous";

export const targetScope = (request: FastifyRequest): AccessScope => {
  const p = request.params as { ns?: string; env?: string };
  return { namespace: p.ns, environment: p.env };
};
