import { ROLES } from "@nexus/contracts";
import type { FastifyRequest } from "fastify";

/**
 * Roles, from the access-control issue (the list lives once, in @nexus/contracts). `admin` implies
 * every other role; `editor`, `approver` and `secret-reader` each imply `viewer` (you cannot
 * approve or reveal what you cannot read).
 */
export { ROLES };
export type Role = (typeof ROLES)[number];

/** One role over a set of namespaces and environments. Patterns: `*`, `payments-*`, `prod?`. */
export interface Grant {
  role: Role;
  namespaces: readonly string[];
  environments: readonly string[];
}

/** Who is calling, after authentication. */
export interface Principal {
  /** Stable name for audit lines: `token:<id>`, `oidc:<sub>`. Never the credential itself. */
  subject: string;
  /** Human-readable owner/name, for `author` fields and messages. */
  name: string;
  kind: "token" | "oidc";
  /** The API token's id when `kind` is `token` (for last-used and revocation). */
  tokenId?: string;
  grants: readonly Grant[];
}

/** Which namespace/environment a request is about; absent parts are not checked. */
export interface AccessScope {
  namespace?: string | undefined;
  environment?: string | undefined;
}

/**
 * Every route declares one (a route without one fails the route-table test and is refused at
 * start-up). `public` is for health, metrics, docs and endpoints authenticated another way
 * (signed webhooks): `reason` says which.
 */
export type AccessRule =
  | { public: true; reason: string }
  /** Any valid credential; the handler narrows what it shows (listings, whoami). */
  | { authenticated: true }
  | {
      role: Role;
      /** Where the namespace/environment sit in the request. Without it the rule needs a grant on every namespace (`*`). */
      scope?: (request: FastifyRequest) => AccessScope;
      /** Answer 404 instead of 403 when the caller may not see the resource, so existence does not leak. */
      hideExistence?: boolean;
    };

declare module "fastify" {
  interface FastifyContextConfig {
    access?: AccessRule;
  }
  interface FastifyRequest {
    /** Set by the auth hook for every non-public route; null only on public routes. */
    principal: Principal | null;
  }
}
