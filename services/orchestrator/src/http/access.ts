import { type AccessScope, canAccess, type Role } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** May the caller see a row of this scope? Listings show only what the caller's grants cover. */
export function mayView(request: FastifyRequest, scope: AccessScope, role: Role = "viewer"): boolean {
  return canAccess(request.principal, role, scope);
}

export const actorOf = (request: FastifyRequest): string => request.principal?.name ?? "anonymous";

/** A pipeline (and its runs) is about its namespace in its target environment. */
export const pipelineScope = (p: { namespace: string; target: string }): AccessScope => ({
  namespace: p.namespace,
  environment: p.target,
});
