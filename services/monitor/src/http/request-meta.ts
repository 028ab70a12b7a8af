import { BadRequestError, UnauthorizedError } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** Who did it: the authenticated principal's name. */
export const actorOf = (request: FastifyRequest): string => request.principal?.name ?? "anonymous";

/** `If-Match: "3"` (or 3) → 3; absent or `*` → undefined. */
export function ifMatchOf(request: FastifyRequest): number | undefined {
  const raw = request.headers["if-match"];
  if (raw === undefined || raw === "*") return undefined;
  const m = /^(?:W\/)?"?(\d{1,10})"?$/.exec(String(raw).trim());
  if (!m)
    throw new BadRequestError(
      "invalid_if_match",
      'If-Match must be the rule set version you read, e.g. "3"',
      {
        field: "If-Match",
      },
    );
  return Number(m[1]);
}

/** The caller's bearer credential, passed on as is to the APIs the dashboard reads for them. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  return typeof h === "string" && h.startsWith("Bearer ") ? h.slice(7) : undefined;
}

/** The caller's token for a relay: a signed-in principal with a bearer credential, or 401. */
export function tokenOf(request: FastifyRequest): string {
  const token = bearerOf(request);
  if (!request.principal || !token) throw new UnauthorizedError("unauthenticated", "a token is required");
  return token;
}
