import { BadRequestError } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

const AUTHOR = /^[\w.@+:/ -]{1,200}$/;

/**
 * Who did it: the authenticated principal; until authentication is enforced, the caller's
 * `Nexus-Author` header (as the registry does), else `anonymous`.
 */
export function actorOf(request: FastifyRequest): string {
  if (request.principal?.name) return request.principal.name;
  const given = request.headers["nexus-author"];
  if (given === undefined) return "anonymous";
  if (typeof given !== "string" || !AUTHOR.test(given)) {
    throw new BadRequestError("invalid_author", "Nexus-Author must be 1-200 printable characters", {
      field: "Nexus-Author",
    });
  }
  return given;
}

/** `If-Match: "3"` (or 3) → 3; absent or `*` → undefined. */
export function ifMatchOf(request: FastifyRequest): number | undefined {
  const raw = request.headers["if-match"];
  if (raw === undefined || raw === "*") return undefined;
  const m = /^(?:W\/)?"?(\d{1,10})"?$/.exec(String(raw).trim());
  if (!m)
    throw new BadRequestError("invalid_if_match", 'If-Match must be the routing version you read, e.g. "3"', {
      field: "If-Match",
    });
  return Number(m[1]);
}
