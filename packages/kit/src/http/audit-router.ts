import { Readable } from "node:stream";
import { AuditPageDto, AuditQueryParams } from "@nexus/contracts";
import type { AuditLog, AuditQuery } from "../audit/audit-log.js";
import type { App } from "./app.js";

const EXPORT_PAGE = 1000;

function toQuery(q: AuditQueryParams): AuditQuery {
  return {
    actor: q.actor,
    resource: q.resource,
    outcome: q.outcome,
    since: q.since ? new Date(q.since) : undefined,
    until: q.until ? new Date(q.until) : undefined,
    after: q.after,
    limit: q.limit,
  };
}

/**
 * `GET /v1/audit` (pages) and `GET /v1/audit/export` (JSON lines, everything matching), admins
 * only. Their query and bodies live in @nexus/contracts (http/audit.ts), which the CLI reads too.
 */
export function registerAuditRoutes(app: App, audit: AuditLog): void {
  app.get(
    "/v1/audit",
    {
      config: { access: { role: "admin" } },
      schema: {
        tags: ["audit"],
        summary: "Query the audit log",
        querystring: AuditQueryParams,
        response: { 200: AuditPageDto },
      },
    },
    async (request) => {
      await audit.flush();
      const entries = await audit.query(toQuery(request.query));
      const next = entries.length === request.query.limit ? (entries.at(-1)?.seq ?? null) : null;
      return { entries, next };
    },
  );

  app.get(
    "/v1/audit/export",
    {
      config: { access: { role: "admin" } },
      schema: {
        tags: ["audit"],
        summary: "Export the audit log as JSON lines",
        querystring: AuditQueryParams.omit({ limit: true }),
      },
    },
    async (request, reply) => {
      await audit.flush();
      const base = toQuery({ ...request.query, limit: EXPORT_PAGE });
      async function* lines() {
        let after = base.after;
        for (;;) {
          const page = await audit.query({ ...base, after });
          for (const entry of page) yield `${JSON.stringify(entry)}\n`;
          if (page.length < EXPORT_PAGE) return;
          after = page.at(-1)?.seq;
        }
      }
      reply.header("content-type", "application/x-ndjson; charset=utf-8");
      reply.header("content-disposition", 'attachment; filename="audit.jsonl"');
      return reply.send(Readable.from(lines()));
    },
  );
}
