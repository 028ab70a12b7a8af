import type { DriftKind, FindingDto, FindingQuery } from "@nexus/contracts";
import type { Queryable } from "@nexus/kit";
import type { ActiveFinding, DesiredFinding } from "./finding-types.js";

const COLUMNS = `id, finding_key, kind, namespace, environment, service, instance_ids, expected_revision,
  expected_hash, actual_revision, actual_hash, severity, status, summary, reason, details,
  first_seen_at, last_seen_at, resolving_since, resolution, resolved_at, reopen_count,
  remediation_attempts, last_remediation_at, escalated_at`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
type Row = Record<string, any>;

function toActive(r: Row): ActiveFinding {
  return {
    id: r.id,
    key: r.finding_key,
    kind: r.kind,
    namespace: r.namespace,
    environment: r.environment,
    service: r.service,
    instanceIds: r.instance_ids,
    expected: { revision: r.expected_revision, hash: r.expected_hash },
    actual: { revision: r.actual_revision, hash: r.actual_hash },
    severity: r.severity,
    summary: r.summary,
    reason: r.reason ?? undefined,
    details: r.details?.violations || r.details?.git ? r.details : undefined,
    status: r.status,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
    resolvingSince: r.resolving_since,
    resolution: r.resolution,
    remediationAttempts: r.remediation_attempts,
    lastRemediationAt: r.last_remediation_at,
    escalatedAt: r.escalated_at,
  };
}

function toDto(r: Row): FindingDto {
  return {
    id: r.id,
    kind: r.kind,
    namespace: r.namespace,
    environment: r.environment,
    service: r.service,
    instanceIds: r.instance_ids,
    expected: { revision: r.expected_revision, hash: r.expected_hash },
    actual: { revision: r.actual_revision, hash: r.actual_hash },
    severity: r.severity,
    status: r.status,
    summary: r.summary,
    reason: r.reason,
    violations: r.details?.violations ?? null,
    firstSeenAt: r.first_seen_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    resolvedAt: r.resolved_at?.toISOString() ?? null,
    resolution: r.resolution,
    reopenCount: r.reopen_count,
    remediationAttempts: r.remediation_attempts,
    escalatedAt: r.escalated_at?.toISOString() ?? null,
  };
}

const desiredRecord = (d: DesiredFinding) => ({
  finding_key: d.key,
  kind: d.kind,
  namespace: d.namespace,
  environment: d.environment,
  service: d.service,
  instance_ids: d.instanceIds,
  expected_revision: d.expected.revision,
  expected_hash: d.expected.hash,
  actual_revision: d.actual.revision,
  actual_hash: d.actual.hash,
  severity: d.severity,
  summary: d.summary,
  reason: d.reason ?? null,
  details: d.details ?? {},
});

const RECORD_TYPE = `finding_key text, kind text, namespace text, environment text, service text,
  instance_ids text[], expected_revision integer, expected_hash text, actual_revision integer,
  actual_hash text, severity text, summary text, reason text, details jsonb`;

export function createFindingStore() {
  return {
    /** Active findings (open, or resolving within the quiet period) per kind and severity (metrics). */
    async countActive(
      db: Queryable,
    ): Promise<{ kind: string; severity: string; status: string; n: number }[]> {
      const res = await db.query(
        `SELECT kind, severity, status, count(*)::int AS n FROM findings
         WHERE status IN ('open', 'resolving') GROUP BY kind, severity, status`,
      );
      return res.rows;
    },
    /** Open and resolving findings of the given kinds, optionally of one (namespace, environment). */
    async listActive(
      db: Queryable,
      kinds: readonly DriftKind[],
      scope: { namespace?: string; environment?: string } = {},
    ): Promise<ActiveFinding[]> {
      const res = await db.query(
        `SELECT ${COLUMNS} FROM findings
         WHERE status <> 'resolved' AND kind = ANY($1::text[])
           AND ($2::text IS NULL OR namespace = $2) AND ($3::text IS NULL OR environment = $3)`,
        [kinds, scope.namespace ?? null, scope.environment ?? null],
      );
      return res.rows.map(toActive);
    },

    /** Insert new findings; returns them with their ids and times. */
    async insert(db: Queryable, items: readonly { id: string; desired: DesiredFinding }[], now: Date) {
      if (items.length === 0) return [] as ActiveFinding[];
      const records = items.map((i) => ({ id: i.id, ...desiredRecord(i.desired) }));
      const res = await db.query(
        `INSERT INTO findings (id, finding_key, kind, namespace, environment, service, instance_ids,
           expected_revision, expected_hash, actual_revision, actual_hash, severity, status, summary,
           reason, details, first_seen_at, last_seen_at)
         SELECT id, finding_key, kind, namespace, environment, service, instance_ids, expected_revision,
           expected_hash, actual_revision, actual_hash, severity, 'open', summary, reason, details, $2, $2
         FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, ${RECORD_TYPE})
         ON CONFLICT (finding_key) WHERE status <> 'resolved' DO NOTHING
         RETURNING ${COLUMNS}`,
        [JSON.stringify(records), now],
      );
      return res.rows.map(toActive);
    },

    /** Refresh still-true findings (and re-open resolving ones silently). Severity never drops below an escalation. */
    async update(
      db: Queryable,
      items: readonly { id: string; desired: DesiredFinding; reopened: boolean }[],
      now: Date,
    ): Promise<void> {
      if (items.length === 0) return;
      const records = items.map((i) => ({ id: i.id, reopened: i.reopened, ...desiredRecord(i.desired) }));
      await db.query(
        `UPDATE findings f SET
           instance_ids = r.instance_ids, expected_revision = r.expected_revision,
           expected_hash = r.expected_hash, actual_revision = r.actual_revision,
           actual_hash = r.actual_hash, summary = r.summary, reason = r.reason, details = r.details,
           severity = CASE WHEN f.escalated_at IS NOT NULL THEN f.severity ELSE r.severity END,
           status = 'open', resolving_since = NULL, resolution = NULL, last_seen_at = $2,
           reopen_count = f.reopen_count + CASE WHEN r.reopened THEN 1 ELSE 0 END
         FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, reopened boolean, ${RECORD_TYPE})
         WHERE f.id = r.id AND f.status <> 'resolved'`,
        [JSON.stringify(records), now],
      );
    },

    async markResolving(
      db: Queryable,
      items: readonly { id: string; resolution: string }[],
      now: Date,
    ): Promise<void> {
      if (items.length === 0) return;
      await db.query(
        `UPDATE findings f SET status = 'resolving', resolving_since = $3, resolution = r.resolution
         FROM unnest($1::uuid[], $2::text[]) AS r(id, resolution)
         WHERE f.id = r.id AND f.status = 'open'`,
        [items.map((i) => i.id), items.map((i) => i.resolution), now],
      );
    },

    /** Resolve; returns the ids actually resolved now (a concurrent pass may have done it). */
    async resolve(
      db: Queryable,
      items: readonly { id: string; resolution: string }[],
      now: Date,
    ): Promise<Set<string>> {
      if (items.length === 0) return new Set();
      const res = await db.query(
        `UPDATE findings f SET status = 'resolved', resolved_at = $3, resolution = r.resolution,
           resolving_since = NULL
         FROM unnest($1::uuid[], $2::text[]) AS r(id, resolution)
         WHERE f.id = r.id AND f.status <> 'resolved'
         RETURNING f.id`,
        [items.map((i) => i.id), items.map((i) => i.resolution), now],
      );
      return new Set(res.rows.map((r) => r.id as string));
    },

    async recordRemediation(db: Queryable, findingId: string, now: Date): Promise<void> {
      await db.query(
        `UPDATE findings SET remediation_attempts = remediation_attempts + 1, last_remediation_at = $2
         WHERE id = $1`,
        [findingId, now],
      );
    },

    async escalate(db: Queryable, findingId: string, now: Date): Promise<boolean> {
      const res = await db.query(
        `UPDATE findings SET escalated_at = $2, severity = 'critical'
         WHERE id = $1 AND escalated_at IS NULL AND status <> 'resolved'`,
        [findingId, now],
      );
      return (res.rowCount ?? 0) > 0;
    },

    async list(db: Queryable, q: FindingQuery): Promise<FindingDto[]> {
      const statuses =
        q.status === "active"
          ? ["open", "resolving"]
          : q.status === "all"
            ? ["open", "resolving", "resolved"]
            : [q.status];
      const res = await db.query(
        `SELECT ${COLUMNS} FROM findings
         WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR namespace = $2)
           AND ($3::text IS NULL OR environment = $3) AND ($4::text IS NULL OR kind = $4)
         ORDER BY last_seen_at DESC, id LIMIT $5`,
        [statuses, q.namespace ?? null, q.environment ?? null, q.kind ?? null, q.limit],
      );
      return res.rows.map(toDto);
    },

    async get(db: Queryable, id: string): Promise<FindingDto | null> {
      const res = await db.query(`SELECT ${COLUMNS} FROM findings WHERE id = $1`, [id]);
      return res.rows[0] ? toDto(res.rows[0]) : null;
    },
  };
}
export type FindingStore = ReturnType<typeof createFindingStore>;
