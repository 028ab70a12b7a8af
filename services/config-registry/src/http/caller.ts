import { canAccess } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import type { Caller } from "../change-requests/change-request-service.js";

/** The request's principal as the services see it: a name, a stable subject, and its grants. */
export function callerOf(request: FastifyRequest): Caller {
  const principal = request.principal;
  return {
    subject: principal?.subject ?? "anonymous",
    name: principal?.name ?? "anonymous",
    can: (role, scope) => canAccess(principal, role, scope),
  };
}
