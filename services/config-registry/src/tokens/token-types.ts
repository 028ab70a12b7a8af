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

/**
 * A token as stored. Its HTTP shapes (`CreateTokenBody`, `TokenDto`, `CreatedTokenDto`,
 * `TokenListDto`, `WhoAmIDto`) live in @nexus/contracts (http/registry-tokens.ts), which the CLI
 * reads too.
 */
export const TokenParams = z.object({ id: TokenId });
