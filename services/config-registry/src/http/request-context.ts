import { type AuditEntry, auditEntryOf, BadRequestError } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** Who is acting: the authenticated principal's name (a token's owner, an OIDC user's e-mail). */
export function authorOf(request: FastifyRequest): string {
  return request.principal?.name ?? "anonymous";
}

/** `If-Match: "3"` (or 3, or W/"3") → 3; absent or `*` → undefined (no check). */
export function expectedRevisionOf(request: FastifyRequest): number | undefined {
  const raw = request.headers["if-match"];
  if (raw === undefined || raw === "*") return undefined;
  const m = /^(?:W\/)?"?(\d{1,10})"?$/.exec(String(raw).trim());
  if (!m) {
    throw new BadRequestError(
      "invalid_if_match",
      'If-Match must be the layer revision you last read, e.g. "3"',
      {
        field: "If-Match",
      },
    );
  }
  return Number(m[1]);
}

export function traceparentOf(request: FastifyRequest): string | undefined {
  const tp = request.headers.traceparent;
  return typeof tp === "string" && /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/.test(tp)
    ? tp
    : undefined;
}

export const etag = (value: string | number) => `"${value}"`;

/** Does an If-None-Match header name this ETag? */
export function matchesIfNoneMatch(header: string | string[] | undefined, tag: string): boolean {
  if (!header) return false;
  const values = (Array.isArray(header) ? header.join(",") : header)
    .split(",")
    .map((v) => v.trim().replace(/^W\//, ""));
  return values.includes(tag) || values.includes("*");
}

/** The audit line a write stores in its own commit (a layer write, a rollback, an approval): each answers 200 when it applies. */
export const committedAuditOf = (request: FastifyRequest): AuditEntry => auditEntryOf(request, 200);

/** After a write: when it stored a revision, its commit holds the request's audit line already. */
export function noteAuditCommitted(request: FastifyRequest, result: { changed: boolean }): void {
  if (result.changed) request.auditCommitted = true;
}
