import { type AccessScope, canAccess, type Role } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** Who is asking, and what their grants allow (bound to the request's principal). */
export interface Caller {
  subject: string;
  name: string;
  can(role: Role, scope: AccessScope): boolean;
}

/** The request's principal as the services see it: a name, a stable subject, and its grants. */
export function callerOf(request: FastifyRequest): Caller {
  const principal = request.principal;
  return {
    subject: principal?.subject ?? "anonymous",
    name: principal?.name ?? "anonymous",
    can: (role, scope) => canAccess(principal, role, scope),
  };
}
