import type { Queryable } from "@nexus/kit";

export interface WrappedDataKey {
  id: number;
  namespace: string;
  masterKeyId: string;
  wrappedKey: string;
}

interface Row {
  id: string;
  namespace: string;
  master_key_id: string;
  wrapped_key: string;
}

const toKey = (r: Row): WrappedDataKey => ({
  id: Number(r.id),
  namespace: r.namespace,
  masterKeyId: r.master_key_id,
  wrappedKey: r.wrapped_key,
});

export function createSecretStore() {
  return {
    /** The data key new secrets of the namespace are sealed with (its newest). */
    async findActive(q: Queryable, namespace: string): Promise<WrappedDataKey | null> {
      const res = await q.query<Row>({
        name: "secret-key-active",
        text: "SELECT id, namespace, master_key_id, wrapped_key FROM secret_keys WHERE namespace = $1 ORDER BY id DESC LIMIT 1",
        values: [namespace],
      });
      return res.rows[0] ? toKey(res.rows[0]) : null;
    },

    async findByIds(q: Queryable, ids: number[]): Promise<WrappedDataKey[]> {
      const res = await q.query<Row>(
        "SELECT id, namespace, master_key_id, wrapped_key FROM secret_keys WHERE id = ANY($1::bigint[])",
        [ids],
      );
      return res.rows.map(toKey);
    },

    /** An id for a data key about to be created (it is wrapped bound to it). */
    async nextId(q: Queryable): Promise<number> {
      const res = await q.query<{ id: string }>(
        "SELECT nextval(pg_get_serial_sequence('secret_keys', 'id')) AS id",
      );
      return Number(res.rows[0]!.id);
    },

    async insert(q: Queryable, key: WrappedDataKey): Promise<void> {
      await q.query(
        "INSERT INTO secret_keys (id, namespace, master_key_id, wrapped_key) VALUES ($1, $2, $3, $4)",
        [key.id, key.namespace, key.masterKeyId, key.wrappedKey],
      );
    },

    /** Data keys not wrapped by `masterKeyId`, in id order after `afterId`. */
    async listNotWrappedBy(
      q: Queryable,
      masterKeyId: string,
      afterId: number,
      limit: number,
    ): Promise<WrappedDataKey[]> {
      const res = await q.query<Row>(
        `SELECT id, namespace, master_key_id, wrapped_key FROM secret_keys
         WHERE master_key_id <> $1 AND id > $2 ORDER BY id LIMIT $3`,
        [masterKeyId, afterId, limit],
      );
      return res.rows.map(toKey);
    },

    async countAll(q: Queryable): Promise<{ total: number; byMasterKey: Record<string, number> }> {
      const res = await q.query<{ master_key_id: string; n: number }>(
        "SELECT master_key_id, count(*)::int AS n FROM secret_keys GROUP BY 1",
      );
      const byMasterKey: Record<string, number> = {};
      for (const r of res.rows) byMasterKey[r.master_key_id] = r.n;
      return { total: res.rows.reduce((s, r) => s + r.n, 0), byMasterKey };
    },

    /** Swap the wrapping, only if nobody re-wrapped it meanwhile. */
    async rewrap(q: Queryable, id: number, from: string, to: string, wrappedKey: string): Promise<boolean> {
      const res = await q.query(
        `UPDATE secret_keys SET master_key_id = $3, wrapped_key = $4, rewrapped_at = now()
         WHERE id = $1 AND master_key_id = $2`,
        [id, from, to, wrappedKey],
      );
      return (res.rowCount ?? 0) === 1;
    },
  };
}
export type SecretStore = ReturnType<typeof createSecretStore>;
