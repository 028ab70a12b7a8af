import { AUTH_TOKEN_REVOKED, type CreateTokenBody, type TokenDto } from "@nexus/contracts";
import {
  apiTokenDigest,
  apiTokenId,
  type Bus,
  digestsEqual,
  enqueueEvents,
  type Logger,
  NotFoundError,
  type Pool,
  type Principal,
  prepareOutboxRows,
  UnauthorizedError,
  withTransaction,
} from "@nexus/kit";
import { generateApiToken, parseGrants, tokenStatus, toTokenDto } from "./token-fns.js";
import type { TokenStore } from "./token-store.js";
import type { ApiTokenRecord } from "./token-types.js";

/** How long a verified token is trusted from memory; revocation evicts it at once anyway. */
const CACHE_MS = 5_000;
/** last_used_at is written at most this often per token, off the request path. */
const TOUCH_EVERY_MS = 60_000;

export type IntrospectResult =
  | { active: true; token: ApiTokenRecord }
  | { active: false; reason: "unknown" | "revoked" | "expired" };

export function createTokenService(deps: {
  pool: Pool;
  tokens: TokenStore;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  key: Buffer;
  logger: Logger;
  wakeOutbox: () => void;
}) {
  const { pool, tokens, key } = deps;
  const cache = new Map<string, { token: ApiTokenRecord; until: number }>();
  const touched = new Map<string, number>();

  const principalOf = (t: ApiTokenRecord): Principal => ({
    subject: `token:${t.id}`,
    name: t.owner,
    kind: "token",
    tokenId: t.id,
    grants: t.grants,
  });

  function touch(id: string): void {
    const now = Date.now();
    if ((touched.get(id) ?? 0) > now - TOUCH_EVERY_MS) return;
    if (touched.size > 10_000) touched.clear();
    touched.set(id, now);
    tokens
      .touch(pool, id)
      .catch((err) => deps.logger.warn({ err, tokenId: id }, "could not record a token's last use"));
  }

  async function lookup(id: string): Promise<ApiTokenRecord | null> {
    const hit = cache.get(id);
    if (hit && hit.until > Date.now()) return hit.token;
    const token = await tokens.findById(pool, id);
    if (token) {
      if (cache.size > 10_000) cache.clear();
      cache.set(id, { token, until: Date.now() + CACHE_MS });
    }
    return token;
  }

  function check(token: ApiTokenRecord | null, digest: string): IntrospectResult {
    if (!token || !digestsEqual(token.digest, digest)) return { active: false, reason: "unknown" };
    const status = tokenStatus(token);
    if (status !== "active") return { active: false, reason: status };
    touch(token.id);
    return { active: true, token };
  }

  /** Checks a presented id + digest; used for local requests and for other services' introspection. */
  async function introspect(id: string, digest: string): Promise<IntrospectResult> {
    return check(await lookup(id), digest);
  }

  function verdict(result: IntrospectResult): Principal | null {
    if (result.active) return principalOf(result.token);
    if (result.reason === "expired") {
      throw new UnauthorizedError("token_expired", "This token has expired; ask an admin for a new one.");
    }
    if (result.reason === "revoked") throw new UnauthorizedError("token_revoked", "This token was revoked.");
    return null;
  }

  /** Digests of tokens seen valid, so a cached token costs a map lookup instead of an HMAC. */
  const digests = new Map<string, string>();

  return {
    /** The registry's own API-token authenticator: synchronous when the token is cached. */
    authenticate(credential: string): Principal | null | Promise<Principal | null> {
      const id = apiTokenId(credential);
      if (!id) return null;
      const digest = digests.get(credential) ?? apiTokenDigest(key, credential);
      const remember = (result: IntrospectResult) => {
        if (result.active && !digests.has(credential)) {
          if (digests.size >= 10_000) digests.clear();
          digests.set(credential, digest);
        }
        return verdict(result);
      };
      const hit = cache.get(id);
      if (hit && hit.until > Date.now()) return remember(check(hit.token, digest));
      return introspect(id, digest).then(remember);
    },

    introspect,

    async create(input: CreateTokenBody, createdBy: string): Promise<TokenDto & { token: string }> {
      const grants = parseGrants(input.grants);
      const { id, token } = generateApiToken();
      const record = await tokens.insert(pool, {
        id,
        digest: apiTokenDigest(key, token),
        name: input.name,
        owner: input.owner ?? createdBy,
        grants,
        createdBy,
        expiresAt: input.expiresInDays ? new Date(Date.now() + input.expiresInDays * 86_400_000) : null,
      });
      deps.logger.info({ tokenId: id, name: input.name, createdBy }, "API token created");
      return { ...toTokenDto(record), token };
    },

    async list(includeRevoked: boolean): Promise<TokenDto[]> {
      return (await tokens.list(pool, { includeRevoked })).map(toTokenDto);
    },

    async get(id: string): Promise<TokenDto> {
      const token = await tokens.findById(pool, id);
      if (!token) throw new NotFoundError("token_not_found", `No API token with id ${id}`, { field: "id" });
      return toTokenDto(token);
    },

    /** Revoke and tell every service to drop it; revoking twice is harmless. */
    async revoke(id: string, by: string): Promise<TokenDto> {
      const revoked = await withTransaction(pool, async (client) => {
        const token = await tokens.revoke(client, id, by);
        if (!token) return null;
        const rows = prepareOutboxRows(deps.bus, AUTH_TOKEN_REVOKED, [
          { schemaVersion: 1, tokenId: id, name: token.name, revokedBy: by, reason: "revoked" },
        ]);
        await enqueueEvents(client, rows);
        return token;
      });
      cache.delete(id);
      if (!revoked) return this.get(id);
      deps.wakeOutbox();
      deps.logger.info({ tokenId: id, revokedBy: by }, "API token revoked");
      return toTokenDto(revoked);
    },

    /** Drop a token another instance revoked. */
    evict(id: string): void {
      cache.delete(id);
    },

    /**
     * First start: with no token at all, the bootstrap admin token from the environment becomes
     * the first one, so someone can log in and create the real ones. Later starts ignore it.
     */
    async ensureBootstrap(token: string | undefined): Promise<"created" | "skipped"> {
      if (!token) return "skipped";
      const id = apiTokenId(token);
      if (!id) throw new Error("NEXUS_BOOTSTRAP_TOKEN is not an API token (nxs_<16 hex>_<43 base64url>)");
      return withTransaction(pool, async (client) => {
        await client.query("LOCK TABLE api_tokens IN EXCLUSIVE MODE");
        if ((await tokens.count(client)) > 0) return "skipped" as const;
        await tokens.insert(client, {
          id,
          digest: apiTokenDigest(key, token),
          name: "bootstrap",
          owner: "bootstrap",
          grants: [{ role: "admin", namespaces: ["*"], environments: ["*"] }],
          createdBy: "environment",
          expiresAt: null,
        });
        deps.logger.info({ tokenId: id }, "bootstrap admin token installed from NEXUS_BOOTSTRAP_TOKEN");
        return "created" as const;
      });
    },
  };
}
export type TokenService = ReturnType<typeof createTokenService>;
