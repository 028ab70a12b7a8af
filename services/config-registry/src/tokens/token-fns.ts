import { randomBytes } from "node:crypto";
import type { TokenDto } from "@nexus/contracts";
import { type Grant, parseGrant, ValidationError } from "@nexus/kit";
import type { ApiTokenRecord } from "./token-types.js";

/** A new API token: `nxs_` + 16 hex id + `_` + 256 random bits (base64url). */
export function generateApiToken(): { id: string; token: string } {
  const id = randomBytes(8).toString("hex");
  return { id, token: `nxs_${id}_${randomBytes(32).toString("base64url")}` };
}

/** Grant texts from a request; the first bad one is refused with its index as the field. */
export function parseGrants(texts: readonly string[]): Grant[] {
  return texts.map((text, i) => {
    const grant = parseGrant(text);
    if (!grant) {
      throw new ValidationError(
        "invalid_grant",
        `'${text}' is not a grant: write role[:namespacePattern[:environmentPattern]], role one of viewer, editor, approver, secret-reader, admin`,
        { field: `grants.${i}` },
      );
    }
    return grant;
  });
}

export function tokenStatus(t: Pick<ApiTokenRecord, "revokedAt" | "expiresAt">, now = Date.now()) {
  if (t.revokedAt) return "revoked" as const;
  if (t.expiresAt && t.expiresAt.getTime() <= now) return "expired" as const;
  return "active" as const;
}

export function toTokenDto(t: ApiTokenRecord): TokenDto {
  return {
    id: t.id,
    name: t.name,
    owner: t.owner,
    grants: t.grants.map((g) => ({ ...g, namespaces: [...g.namespaces], environments: [...g.environments] })),
    createdAt: t.createdAt.toISOString(),
    createdBy: t.createdBy,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    revokedBy: t.revokedBy,
    status: tokenStatus(t),
  };
}
