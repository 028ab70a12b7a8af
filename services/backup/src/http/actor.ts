import type { FastifyRequest } from "fastify";

/** Who did it: the authenticated principal (every backup route needs admin). */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? "anonymous";
}
