import { TokenId } from "@nexus/contracts";
import type { Grant } from "@nexus/kit";
import { z } from "zod";

export interface ApiTokenRecord {
  id: string;
  digest: string;
  name: string;
  owner: string;
  grants: Grant[];
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

export const TokenParams = z.object({ id: TokenId });

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

const GrantDto = z.object({
  role: z.enum(["viewer", "editor", "approver", "secret-reader", "admin"]),
  namespaces: z.array(z.string()),
  environments: z.array(z.string()),
});

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

export const CreatedTokenDto = TokenDto.extend({
  token: z.string().describe("The token itself. Shown this once; store it now."),
});

export const WhoAmIDto = z.object({
  subject: z.string(),
  name: z.string(),
  kind: z.enum(["token", "oidc"]),
  grants: z.array(GrantDto),
});
