import type { FastifyRequest } from "fastify";
import { ForbiddenError } from "../errors.js";
import { canAccess } from "./access-fns.js";
import type { AccessScope, Role } from "./auth-types.js";

/**
 * For the few checks that need the parsed body (e.g. the name of a namespace being created):
 * the route's rule lets any token in, and the handler calls this before doing anything.
 */
export function requireAccess(request: FastifyRequest, role: Role, scope: AccessScope): void {
  if (canAccess(request.principal, role, scope)) return;
  request.accessDenied = `needs ${role}`;
  throw new ForbiddenError(
    "forbidden",
    `This token lacks the '${role}' role${scope.namespace ? ` for namespace '${scope.namespace}'` : ""}.`,
  );
}
