/**
 * Access control's response bodies as the CLI reads them (`/v1/whoami`, `/v1/tokens`,
 * `/v1/audit`), each with the spec `api-client.ts` checks it against. The shapes live once, in
 * @nexus/contracts (http/registry-tokens.ts; http/audit.ts, the kit's audit routes every service
 * serves): here they are type-only imports (the CLI does not load zod; see shape-fns.ts), and the
 * specs are the run-time structural check, kept equal to the contract's zod schemas by
 * test/unit/api-specs.test.ts.
 */
import type {
  AuditEntryDto,
  AuditOutcome as AuditOutcomeDto,
  AuditPageDto,
  AuditQueryParams,
  CreatedTokenDto,
  CreateTokenBody,
  GrantDto,
  TokenDto,
  TokenListDto,
  WhoAmIDto,
} from "@nexus/contracts";
import type { z } from "zod";
import type { Spec } from "./shape-fns.js";

export type Role = GrantDto["role"];

export type Grant = GrantDto;
export const GrantSpec = {
  role: "string",
  namespaces: ["string"],
  environments: ["string"],
} as const satisfies Spec;

/** `subject` is how the audit log names you; `name` is the author of your writes. */
export type WhoAmI = WhoAmIDto;
export const WhoAmISpec = {
  subject: "string",
  name: "string",
  kind: "string",
  grants: [GrantSpec],
} as const satisfies Spec;

export type ApiToken = TokenDto;
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
export type CreatedToken = CreatedTokenDto;
export const CreatedTokenSpec = { ...ApiTokenSpec, token: "string" } as const satisfies Spec;

export type TokenList = TokenListDto;
export const TokenListSpec = { tokens: [ApiTokenSpec] } as const satisfies Spec;

/** What `nexus token create` sends: the request body as the registry takes it. */
export type CreateTokenInput = z.input<typeof CreateTokenBody>;

export type AuditOutcome = AuditOutcomeDto;

export type AuditEntry = AuditEntryDto;
export const AuditEntrySpec = {
  seq: "number",
  at: "string",
  actor: "string",
  action: "string",
  resource: "string",
  outcome: "string",
  "statusCode?": "number",
  "requestId?": "string",
  "ip?": "string",
  "userAgent?": "string",
  "details?": "object",
} as const satisfies Spec;

export type AuditPage = AuditPageDto;
export const AuditPageSpec = { entries: [AuditEntrySpec], next: "number|null" } as const satisfies Spec;

/** Filters of `/v1/audit` and `/v1/audit/export`, as query parameters (the page size apart). */
export type AuditFilter = Omit<AuditQueryParams, "limit">;
