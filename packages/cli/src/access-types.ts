/**
 * Access control's response bodies as the CLI reads them (`/v1/whoami`, `/v1/tokens`,
 * `/v1/audit`), each with the spec `api-client.ts` checks it against.
 */
import type { Spec } from "./shape-fns.js";

export type Role = "viewer" | "editor" | "approver" | "secret-reader" | "admin";

export interface Grant {
  role: Role;
  namespaces: string[];
  environments: string[];
}
export const GrantSpec = {
  role: "string",
  namespaces: ["string"],
  environments: ["string"],
} as const satisfies Spec;

export interface WhoAmI {
  /** `token:<id>` or `oidc:<sub>`: how the audit log names you. */
  subject: string;
  /** The token's owner, or the OIDC user's name: the author of your writes. */
  name: string;
  kind: "token" | "oidc";
  grants: Grant[];
}
export const WhoAmISpec = {
  subject: "string",
  name: "string",
  kind: "string",
  grants: [GrantSpec],
} as const satisfies Spec;

export interface ApiToken {
  id: string;
  name: string;
  owner: string;
  grants: Grant[];
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  status: "active" | "expired" | "revoked";
}
export const ApiTokenSpec = {
  id: "string",
  name: "string",
  owner: "string",
  grants: [GrantSpec],
  createdAt: "string",
  createdBy: "string",
  expiresAt: "string|null",
  lastUsedAt: "string|null",
  revokedAt: "string|null",
  revokedBy: "string|null",
  status: "string",
} as const satisfies Spec;

/** The one response that holds the token itself. */
export interface CreatedToken extends ApiToken {
  token: string;
}
export const CreatedTokenSpec = { ...ApiTokenSpec, token: "string" } as const satisfies Spec;

export const TokenListSpec = { tokens: [ApiTokenSpec] } as const satisfies Spec;

export interface CreateTokenInput {
  name: string;
  grants: string[];
  owner?: string | undefined;
  expiresInDays?: number | undefined;
}

export type AuditOutcome = "allowed" | "denied" | "failed";

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  resource: string;
  outcome: AuditOutcome;
  statusCode?: number;
  requestId?: string;
  ip?: string;
  userAgent?: string;
  details?: Record<string, unknown>;
}
export const AuditEntrySpec = {
  seq: "number",
  at: "string",
  actor: "string",
  action: "string",
  resource: "string",
  outcome: "string",
} as const satisfies Spec;

export interface AuditPage {
  entries: AuditEntry[];
  next: number | null;
}
export const AuditPageSpec = { entries: [AuditEntrySpec], next: "number|null" } as const satisfies Spec;

/** Filters of `/v1/audit` and `/v1/audit/export`, as query parameters. */
export interface AuditFilter {
  actor?: string | undefined;
  resource?: string | undefined;
  outcome?: AuditOutcome | undefined;
  since?: string | undefined;
  until?: string | undefined;
  after?: number | undefined;
}
