import type pg from "pg";

/** Delete published rows older than the retention, a slice at a time to keep locks short. */
export async function deletePublishedOutbox(
  pool: Pick<pg.Pool, "query">,
  retentionMs: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const res = await pool.query(
      `DELETE FROM outbox WHERE seq IN (
         SELECT seq FROM outbox
         WHERE published_at IS NOT NULL AND published_at < now() - $1 * interval '1 millisecond'
         ORDER BY seq LIMIT 5000)`,
      [retentionMs],
    );
    total += res.rowCount ?? 0;
    if ((res.rowCount ?? 0) < 5000) return total;
  }
}
