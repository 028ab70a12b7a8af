import { z } from "zod";

/**
 * Access control as the config-registry's `/v1/whoami` and `/v1/tokens…` routes take and show it:
 * the registry validates and documents with these schemas, the CLI (`nexus whoami`, `nexus token
 * …`) reads them (type-only: it checks answers structurally, without zod). `GrantDto` is also what
 * the registry answers other services' token introspection with (auth-introspect.ts).
 */

/**
 * The roles (the kit's access control decides with them): `admin` implies every other role;
 * `editor`, `approver` and `secret-reader` each imply `viewer`.
 */
export const ROLES = ["viewer", "editor", "approver", "secret-reader", "admin"] as const;

/** One role over namespace and environment patterns (`*`, `payments-*`, `prod?`). */
export const GrantDto = z.object({
  role: z.enum(ROLES),
  namespaces: z.array(z.string()),
  environments: z.array(z.string()),
});
export type GrantDto = z.infer<typeof GrantDto>;

/** `GET /v1/whoami`: who the caller's credential is and what it may do. */
export const WhoAmIDto = z.object({
  /** `token:<id>` or `oidc:<sub>`: how the audit log names the caller. */
  subject: z.string(),
  /** The token's owner, or the OIDC user's name: the author of the caller's writes. */
  name: z.string(),
  kind: z.enum(["token", "oidc"]),
  grants: z.array(GrantDto),
});
export type WhoAmIDto = z.infer<typeof WhoAmIDto>;

/** `POST /v1/tokens` (admins). */
export const CreateTokenBody = z.object({
  name: z.string().trim().min(1).max(100).describe("What the token is for, e.g. `ci-deploy`"),
  owner: z.string().trim().min(1).max(200).optional().describe("Who answers for it; defaults to the creator"),
  grants: z
    .array(z.string())
    .min(1)
    .max(50)
    .describe("`role`, `role:namespacePattern` or `role:namespacePattern:environmentPattern`"),
  expiresInDays: z.number().int().min(1).max(3650).optional().describe("Absent: never expires"),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

/** An API token as listed, read and revoked: never its value (only a keyed digest is stored). */
export const TokenDto = z.object({
  id: z.string(),
  name: z.string(),
  owner: z.string(),
  grants: z.array(GrantDto),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  status: z.enum(["active", "expired", "revoked"]),
});
export type TokenDto = z.infer<typeof TokenDto>;

/** `POST /v1/tokens` (201): the one answer that holds the token itself. */
export const CreatedTokenDto = TokenDto.extend({
  token: z.string().describe("The token itself. Shown this once; store it now."),
});
export type CreatedTokenDto = z.infer<typeof CreatedTokenDto>;

/** `GET /v1/tokens`. */
export const TokenListDto = z.object({ tokens: z.array(TokenDto) });
export type TokenListDto = z.infer<typeof TokenListDto>;
