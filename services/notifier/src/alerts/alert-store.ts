import { activeTraceparent, type Queryable } from "@nexus/kit";
import type { AlertDto, AlertInput } from "./alert-types.js";

export interface AlertRow {
  fingerprint: string;
  status: "firing" | "resolved" | "notice";
  event_type: string;
  severity: AlertDto["severity"];
  summary: string;
  details: string;
  labels: Record<string, string>;
  links: AlertDto["links"];
  source: string;
  action_taken: string | null;
  starts_at: Date;
  ends_at: Date | null;
  last_received_at: Date;
  received_count: number;
  acked_by: string | null;
  acked_at: Date | null;
  ack_comment: string | null;
  /** The trace of what raised it last (see the migration 1700000006000_trace_context). */
  trace_parent: string | null;
}

export const toAlertDto = (r: AlertRow): AlertDto => ({
  fingerprint: r.fingerprint,
  status: r.status,
  eventType: r.event_type,
  severity: r.severity,
  summary: r.summary,
  details: r.details,
  labels: r.labels,
  links: r.links,
  source: r.source,
  actionTaken: r.action_taken,
  startsAt: r.starts_at.toISOString(),
  endsAt: r.ends_at?.toISOString() ?? null,
  lastReceivedAt: r.last_received_at.toISOString(),
  receivedCount: r.received_count,
  ack:
    r.acked_by && r.acked_at
      ? { by: r.acked_by, at: r.acked_at.toISOString(), comment: r.ack_comment ?? "" }
      : null,
});

/** What an incoming alert did to the stored one. */
export type Change = "new" | "refired" | "resolved" | "updated" | "duplicate" | "unknown_resolved" | "notice";

export function createAlertStore() {
  return {
    /**
     * Store an incoming alert and say what changed. A firing alert that is already firing only
     * counts (dedup by fingerprint) unless its severity or summary moved; a re-fire after resolve
     * starts a new episode and clears the ack.
     */
    async upsert(q: Queryable, a: AlertInput): Promise<Change> {
      const prev = await q.query<{ status: string; severity: string; summary: string }>(
        "SELECT status, severity, summary FROM alerts WHERE fingerprint = $1 FOR UPDATE",
        [a.fingerprint],
      );
      const before = prev.rows[0];
      const change: Change =
        a.status === "notice"
          ? before
            ? "duplicate"
            : "notice"
          : !before
            ? a.status === "firing"
              ? "new"
              : "unknown_resolved"
            : a.status === "resolved"
              ? before.status === "firing"
                ? "resolved"
                : "duplicate"
              : before.status !== "firing"
                ? "refired"
                : before.severity !== a.severity || before.summary !== a.summary
                  ? "updated"
                  : "duplicate";
      const params = [
        a.fingerprint,
        a.status,
        a.eventType,
        a.severity,
        a.summary,
        a.details,
        JSON.stringify(a.labels),
        JSON.stringify(a.links),
        a.source,
        a.actionTaken ?? null,
        a.startsAt,
        a.endsAt ?? (a.status === "resolved" ? new Date().toISOString() : null),
      ];
      // The intake's span (the event's consumer, the Alertmanager request): its deliveries join that trace.
      const traceParent = activeTraceparent() ?? null;
      if (!before) {
        await q.query(
          `INSERT INTO alerts (fingerprint, status, event_type, severity, summary, details, labels, links, source,
             action_taken, starts_at, ends_at, trace_parent)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [...params, traceParent],
        );
      } else if (change === "duplicate") {
        await q.query(
          "UPDATE alerts SET last_received_at = now(), received_count = received_count + 1 WHERE fingerprint = $1",
          [a.fingerprint],
        );
      } else {
        await q.query(
          `UPDATE alerts SET status = $2, event_type = $3, severity = $4, summary = $5, details = $6, labels = $7,
             links = $8, source = $9, action_taken = COALESCE($10, action_taken),
             starts_at = CASE WHEN $13 THEN $11::timestamptz ELSE starts_at END, ends_at = $12,
             last_received_at = now(), received_count = received_count + 1,
             acked_by = CASE WHEN $13 THEN NULL ELSE acked_by END,
             acked_at = CASE WHEN $13 THEN NULL ELSE acked_at END,
             ack_comment = CASE WHEN $13 THEN NULL ELSE ack_comment END,
             trace_parent = COALESCE($14, trace_parent)
           WHERE fingerprint = $1`,
          [...params, change === "refired", traceParent],
        );
      }
      return change;
    },

    async find(q: Queryable, fingerprint: string): Promise<AlertRow | null> {
      const res = await q.query<AlertRow>("SELECT * FROM alerts WHERE fingerprint = $1", [fingerprint]);
      return res.rows[0] ?? null;
    },

    async list(
      q: Queryable,
      f: {
        status?: string | undefined;
        severity?: string | undefined;
        limit: number;
        before?: string | undefined;
      },
    ): Promise<AlertRow[]> {
      const res = await q.query<AlertRow>(
        `SELECT * FROM alerts
         WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR severity = $2)
           AND ($4::timestamptz IS NULL OR last_received_at < $4)
         ORDER BY last_received_at DESC LIMIT $3`,
        [f.status ?? null, f.severity ?? null, f.limit, f.before ?? null],
      );
      return res.rows;
    },

    async firingLabels(q: Queryable): Promise<{ fingerprint: string; labels: Record<string, string> }[]> {
      const res = await q.query<{ fingerprint: string; labels: Record<string, string> }>(
        "SELECT fingerprint, labels FROM alerts WHERE status = 'firing'",
      );
      return res.rows;
    },

    async ack(q: Queryable, fingerprint: string, by: string, comment: string): Promise<AlertRow | null> {
      const res = await q.query<AlertRow>(
        `UPDATE alerts SET acked_by = $2, acked_at = now(), ack_comment = $3 WHERE fingerprint = $1 RETURNING *`,
        [fingerprint, by, comment],
      );
      return res.rows[0] ?? null;
    },

    async addHistory(
      q: Queryable,
      entries: {
        fingerprint: string;
        kind: string;
        actor?: string | null;
        detail?: Record<string, unknown>;
      }[],
    ): Promise<void> {
      if (entries.length === 0) return;
      await q.query(
        `INSERT INTO alert_history (fingerprint, kind, actor, detail)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
        [
          entries.map((e) => e.fingerprint),
          entries.map((e) => e.kind),
          entries.map((e) => e.actor ?? null),
          entries.map((e) => JSON.stringify(e.detail ?? {})),
        ],
      );
    },

    async history(q: Queryable, fingerprint: string) {
      const res = await q.query<{
        kind: string;
        at: Date;
        actor: string | null;
        detail: Record<string, unknown>;
      }>("SELECT kind, at, actor, detail FROM alert_history WHERE fingerprint = $1 ORDER BY id", [
        fingerprint,
      ]);
      return res.rows.map((r) => ({
        kind: r.kind,
        at: r.at.toISOString(),
        actor: r.actor,
        detail: r.detail,
      }));
    },
  };
}
export type AlertStore = ReturnType<typeof createAlertStore>;
