import type { Grant, Queryable } from "@nexus/kit";
import type { ApiTokenRecord } from "./token-types.js";

const COLUMNS = `id, digest, name, owner, grants, created_at, created_by, expires_at, last_used_at, revoked_at, revoked_by`;

interface TokenRow {
  id: string;
  digest: string;
  name: string;
  owner: string;
  grants: Grant[];
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

const toRecord = (r: TokenRow): ApiTokenRecord => ({
  id: r.id,
  digest: r.digest,
  name: r.name,
  owner: r.owner,
  grants: r.grants,
  createdAt: r.created_at,
  createdBy: r.created_by,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
  revokedBy: r.revoked_by,
});

export function createTokenStore() {
  return {
    async insert(
      q: Queryable,
      t: Pick<ApiTokenRecord, "id" | "digest" | "name" | "owner" | "grants" | "createdBy" | "expiresAt">,
    ): Promise<ApiTokenRecord> {
      const res = await q.query<TokenRow>(
        `INSERT INTO api_tokens (id, digest, name, owner, grants, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7) RETURNING ${COLUMNS}`,
        [t.id, t.digest, t.name, t.owner, JSON.stringify(t.grants), t.createdBy, t.expiresAt],
      );
      return toRecord(res.rows[0]!);
    },
    async findById(q: Queryable, id: string): Promise<ApiTokenRecord | null> {
      const res = await q.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
      return res.rows[0] ? toRecord(res.rows[0]) : null;
    },
    async list(q: Queryable, opts: { includeRevoked: boolean }): Promise<ApiTokenRecord[]> {
      const res = await q.query<TokenRow>(
        `SELECT ${COLUMNS} FROM api_tokens ${opts.includeRevoked ? "" : "WHERE revoked_at IS NULL"} ORDER BY created_at, id`,
      );
      return res.rows.map(toRecord);
    },
    async count(q: Queryable): Promise<number> {
      const res = await q.query<{ n: string }>("SELECT count(*) AS n FROM api_tokens");
      return Number(res.rows[0]?.n ?? 0);
    },
    /** Revokes once; a second call changes nothing and returns null. */
    async revoke(q: Queryable, id: string, by: string): Promise<ApiTokenRecord | null> {
      const res = await q.query<TokenRow>(
        `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2
          WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
        [id, by],
      );
      return res.rows[0] ? toRecord(res.rows[0]) : null;
    },
    async touch(q: Queryable, id: string): Promise<void> {
      await q.query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", [id]);
    },
  };
}
export type TokenStore = ReturnType<typeof createTokenStore>;
