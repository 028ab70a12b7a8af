import { canAccess, roleImplies } from "@nexus/kit";
import type { FastifyRequest } from "fastify";
import { BASE_LAYER } from "../namespaces/namespace-types.js";
import type { RevealSecrets } from "./secret-types.js";

/**
 * What a router passes as `revealSecrets`: whether the caller holds secret-reader on a namespace
 * (asked per namespace, since a resolved document may hold other namespaces' secrets) in the
 * environment read. `false` at once for a caller with no secret-reader grant anywhere, so their
 * reads stay on the cached path.
 */
export function secretReaderOf(request: FastifyRequest, environment: string | undefined): RevealSecrets {
  const principal = request.principal ?? null;
  if (!principal?.grants.some((g) => roleImplies(g.role, "secret-reader"))) return false;
  return (namespace) => {
    const allowed = canAccess(principal, "secret-reader", { namespace, environment });
    // Asked only for secrets actually in the document: a yes is a secret read, for the audit log.
    if (allowed) noteSecretRead(request, namespace, environment);
    return allowed;
  };
}

function noteSecretRead(request: FastifyRequest, namespace: string, environment: string | undefined): void {
  const namespaces = (request.auditNote?.details?.namespaces as string[] | undefined) ?? [];
  if (!namespaces.includes(namespace)) namespaces.push(namespace);
  request.auditNote = { action: "secret.read", details: { namespaces, environment: environment ?? null } };
}

/** The same for a layer: the base layer holds every environment's values, so any grant on the namespace. */
export const secretReaderOfLayer = (request: FastifyRequest, layer: string): RevealSecrets =>
  secretReaderOf(request, layer === BASE_LAYER ? undefined : layer);
