import type { Pool } from "pg";
import type { Logger } from "../logger.js";
import type { AuditEntry, AuditSink } from "./audit-types.js";

export interface AuditQuery {
  actor?: string | undefined;
  /** Prefix of the resource path, e.g. `/v1/namespaces/payments`. */
  resource?: string | undefined;
  outcome?: AuditEntry["outcome"] | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  /** Continue after this sequence number (the `next` of the previous page). */
  after?: number | undefined;
  limit: number;
}

export interface AuditRecord extends AuditEntry {
  seq: number;
  at: string;
}

export interface AuditLog extends AuditSink {
  /** Write what is buffered now (also runs every flush interval). */
  flush(): Promise<void>;
  query(filter: AuditQuery): Promise<AuditRecord[]>;
  close(): Promise<void>;
}

const FLUSH_INTERVAL_MS = 100;
const FLUSH_AT_ENTRIES = 200;
const COLUMNS = 10;

/**
 * The audit log in the service's own schema. Entries are buffered for at most 100 ms and written
 * in one multi-row INSERT, so auditing never adds a round trip to a request.
 */
export function createAuditLog(deps: { pool: Pool; logger: Logger }): AuditLog {
  let buffer: AuditEntry[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => void flushNow(), FLUSH_INTERVAL_MS);
  timer.unref();

  function flushNow(): Promise<void> {
    if (buffer.length === 0) return flushing;
    const batch = buffer;
    buffer = [];
    flushing = flushing.then(() => write(batch));
    return flushing;
  }

  async function write(batch: AuditEntry[]): Promise<void> {
    const params: unknown[] = [];
    const rows = batch.map((e, i) => {
      params.push(
        e.actor,
        e.action,
        e.resource,
        e.outcome,
        e.statusCode ?? null,
        e.requestId ?? null,
        e.ip ?? null,
        e.userAgent ?? null,
        JSON.stringify(e.details ?? {}),
        new Date(),
      );
      const b = i * COLUMNS;
      return `($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9}::jsonb,$${b + 10})`;
    });
    try {
      await deps.pool.query(
        `INSERT INTO audit_log (actor, action, resource, outcome, status_code, request_id, ip, user_agent, details, at)
         VALUES ${rows.join(",")}`,
        params,
      );
    } catch (err) {
      deps.logger.error({ err, entries: batch.length }, "could not write audit entries; they are lost");
    }
  }

  return {
    record(entry) {
      buffer.push(entry);
      if (buffer.length >= FLUSH_AT_ENTRIES) void flushNow();
    },
    flush: flushNow,
    async query(filter) {
      const where: string[] = [];
      const params: unknown[] = [];
      const add = (sql: string, value: unknown) => {
        params.push(value);
        where.push(sql.replace("?", `$${params.length}`));
      };
      if (filter.actor) add("actor = ?", filter.actor);
      if (filter.resource) add("resource LIKE ?", `${filter.resource.replace(/[\\%_]/g, "\\$&")}%`);
      if (filter.outcome) add("outcome = ?", filter.outcome);
      if (filter.since) add("at >= ?", filter.since);
      if (filter.until) add("at < ?", filter.until);
      if (filter.after !== undefined) add("seq > ?", filter.after);
      params.push(filter.limit);
      const res = await deps.pool.query(
        `SELECT seq, at, actor, action, resource, outcome, status_code, request_id, ip, user_agent, details
           FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
          ORDER BY seq LIMIT $${params.length}`,
        params,
      );
      return res.rows.map((r) => ({
        seq: Number(r.seq),
        at: (r.at as Date).toISOString(),
        actor: r.actor,
        action: r.action,
        resource: r.resource,
        outcome: r.outcome,
        statusCode: r.status_code ?? undefined,
        requestId: r.request_id ?? undefined,
        ip: r.ip ?? undefined,
        userAgent: r.user_agent ?? undefined,
        details: r.details,
      }));
    },
    async close() {
      clearInterval(timer);
      await flushNow();
    },
  };
}
