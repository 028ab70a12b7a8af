import type { Queryable } from "@nexus/kit";
import type { ChangeKind, ChangeRequest, ChangeStatus } from "./change-request-types.js";

const COLUMNS = `id, namespace, layer, kind, content, base_revision, message, author, author_subject, status,
  created_at, decided_by, decided_at, comment, revision`;

interface Row {
  id: string;
  namespace: string;
  layer: string;
  kind: ChangeKind;
  content: Record<string, unknown>;
  base_revision: number;
  message: string;
  author: string;
  author_subject: string;
  status: ChangeStatus;
  created_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  comment: string;
  revision: number | null;
}

const toChangeRequest = (r: Row): ChangeRequest => ({
  id: r.id,
  namespace: r.namespace,
  layer: r.layer,
  kind: r.kind,
  content: r.content,
  baseRevision: r.base_revision,
  message: r.message,
  author: r.author,
  authorSubject: r.author_subject,
  status: r.status,
  createdAt: r.created_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  comment: r.comment,
  revision: r.revision,
});

export function createChangeRequestStore() {
  return {
    async insert(
      q: Queryable,
      c: Pick<
        ChangeRequest,
        | "id"
        | "namespace"
        | "layer"
        | "kind"
        | "content"
        | "baseRevision"
        | "message"
        | "author"
        | "authorSubject"
      >,
    ): Promise<ChangeRequest> {
      const res = await q.query<Row>(
        `INSERT INTO change_requests (id, namespace, layer, kind, content, base_revision, message, author, author_subject)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
        [
          c.id,
          c.namespace,
          c.layer,
          c.kind,
          JSON.stringify(c.content),
          c.baseRevision,
          c.message,
          c.author,
          c.authorSubject,
        ],
      );
      return toChangeRequest(res.rows[0]!);
    },
    async find(q: Queryable, id: string, opts: { lock?: boolean } = {}): Promise<ChangeRequest | null> {
      const res = await q.query<Row>(
        `SELECT ${COLUMNS} FROM change_requests WHERE id = $1 ${opts.lock ? "FOR UPDATE" : ""}`,
        [id],
      );
      return res.rows[0] ? toChangeRequest(res.rows[0]) : null;
    },
    async list(
      q: Queryable,
      filter: { namespace?: string | undefined; status?: ChangeStatus | undefined; limit: number },
    ): Promise<ChangeRequest[]> {
      const res = await q.query<Row>(
        `SELECT ${COLUMNS} FROM change_requests
          WHERE ($1::text IS NULL OR namespace = $1) AND ($2::text IS NULL OR status = $2)
          ORDER BY created_at DESC, id LIMIT $3`,
        [filter.namespace ?? null, filter.status ?? null, filter.limit],
      );
      return res.rows.map(toChangeRequest);
    },
    /** Decide a pending request; null when it was decided already (by someone else, just now). */
    async decide(
      q: Queryable,
      id: string,
      d: { status: "approved" | "rejected"; decidedBy: string; comment: string; revision: number | null },
    ): Promise<ChangeRequest | null> {
      const res = await q.query<Row>(
        `UPDATE change_requests SET status = $2, decided_by = $3, decided_at = now(), comment = $4, revision = $5
          WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
        [id, d.status, d.decidedBy, d.comment, d.revision],
      );
      return res.rows[0] ? toChangeRequest(res.rows[0]) : null;
    },
    /** The revision an approval of this request wrote, if its write committed (crash recovery). */
    async appliedRevision(
      q: Queryable,
      c: Pick<ChangeRequest, "id" | "namespace" | "layer">,
    ): Promise<number | null> {
      const res = await q.query<{ revision: number }>(
        "SELECT revision FROM revisions WHERE namespace = $1 AND layer = $2 AND source = $3",
        [c.namespace, c.layer, `change-request:${c.id}`],
      );
      return res.rows[0]?.revision ?? null;
    },
  };
}
export type ChangeRequestStore = ReturnType<typeof createChangeRequestStore>;
