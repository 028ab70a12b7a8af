import type { AuditEntry } from "./audit-types.js";

/**
 * An audit line written by the statement that makes the change, so an acknowledged change always
 * has its line (the buffered log can lose up to its flush interval in a crash). `$first` is the
 * line as JSON, or null for none; `onlyIf` names a CTE that must have rows (the change applied).
 */
export function auditInsertSql(first: number, onlyIf?: string): string {
  return `INSERT INTO audit_log (actor, action, resource, outcome, status_code, request_id, ip, user_agent, details)
    SELECT a.actor, a.action, a.resource, a.outcome, a.status_code, a.request_id, a.ip, a.user_agent,
           COALESCE(a.details, '{}'::jsonb)
    FROM jsonb_to_record($${first}::jsonb) AS a(actor text, action text, resource text, outcome text,
         status_code int, request_id text, ip text, user_agent text, details jsonb)
    WHERE $${first}::jsonb IS NOT NULL ${onlyIf ? `AND EXISTS (SELECT 1 FROM ${onlyIf})` : ""}`;
}

export const auditInsertParams = (entry: AuditEntry | undefined): unknown[] => [
  entry
    ? JSON.stringify({
        actor: entry.actor,
        action: entry.action,
        resource: entry.resource,
        outcome: entry.outcome,
        status_code: entry.statusCode ?? null,
        request_id: entry.requestId ?? null,
        ip: entry.ip ?? null,
        user_agent: entry.userAgent ?? null,
        details: entry.details ?? {},
      })
    : null,
];
