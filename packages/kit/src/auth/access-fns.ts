import { type AccessScope, type Grant, type Principal, ROLES, type Role } from "./auth-types.js";

const IMPLIES: Record<Role, readonly Role[]> = {
  viewer: ["viewer"],
  editor: ["editor", "viewer"],
  approver: ["approver", "viewer"],
  "secret-reader": ["secret-reader", "viewer"],
  admin: ["admin", "editor", "approver", "secret-reader", "viewer"],
};

/** Does holding `held` give `wanted`? */
export function roleImplies(held: Role, wanted: Role): boolean {
  return IMPLIES[held].includes(wanted);
}

const patternCache = new Map<string, RegExp>();

/** Glob match: `*` is any run of characters, `?` one character; everything else literal. */
export function matchesPattern(pattern: string, value: string): boolean {
  if (pattern === "*" || pattern === value) return true;
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split("")
      .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
      .join("");
    re = new RegExp(`^${body}$`);
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(value);
}

function coversAll(patterns: readonly string[]): boolean {
  return patterns.includes("*");
}

/** A grant covers a scope part when it matches it; an absent part needs `*` (a global action). */
function covers(patterns: readonly string[], value: string | undefined): boolean {
  if (value === undefined) return coversAll(patterns);
  return patterns.some((p) => matchesPattern(p, value));
}

export function grantAllows(grant: Grant, role: Role, scope: AccessScope): boolean {
  return (
    roleImplies(grant.role, role) &&
    covers(grant.namespaces, scope.namespace) &&
    covers(grant.environments, scope.environment)
  );
}

/**
 * May this principal act with `role` on `scope`? A scope with a namespace but no environment
 * (e.g. a namespace's metadata) is allowed when any grant covers the namespace, whatever its
 * environments: environments narrow what can be read or written *inside* a namespace.
 */
export function canAccess(principal: Principal | null, role: Role, scope: AccessScope = {}): boolean {
  if (!principal) return false;
  return principal.grants.some((g) => {
    if (scope.namespace !== undefined && scope.environment === undefined) {
      return roleImplies(g.role, role) && covers(g.namespaces, scope.namespace);
    }
    return grantAllows(g, role, scope);
  });
}

const GRANT_PART = /^[A-Za-z0-9*?._-]{1,100}$/;

/**
 * A grant written as text, as OIDC role claims and the CLI carry it:
 * `role`, `role:namespacePattern` or `role:namespacePattern:environmentPattern`.
 * Returns null for anything else (unknown role, bad pattern), so callers can say which one.
 */
export function parseGrant(text: string): Grant | null {
  const [role, namespaces = "*", environments = "*", ...rest] = text.trim().split(":");
  if (rest.length > 0 || !role || !(ROLES as readonly string[]).includes(role)) return null;
  if (!GRANT_PART.test(namespaces) || !GRANT_PART.test(environments)) return null;
  return { role: role as Role, namespaces: [namespaces], environments: [environments] };
}

export function formatGrant(grant: Grant): string {
  return grant.namespaces
    .flatMap((ns) => grant.environments.map((env) => `${grant.role}:${ns}:${env}`))
    .join(",");
}
