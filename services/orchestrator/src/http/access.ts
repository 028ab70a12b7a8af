import { type AccessScope, canAccess, type Role } from "@nexus/kit";
import type { FastifyRequest } from "fastify";

/** May the caller see a row of this scope? Listings show only what the caller's grants cover. */
export function mayView(request: FastifyRequest, scope: AccessScope, role: Role = "viewer"): boolean {
  return canAccess(request.principal, role, scope);
}

export const actorOf = (request: FastifyRequest): string => request.principal?.name ?? "anonymous";

/** A pipeline (and its runs) is about its namespace in its target environment. */
export const pipelineScope = (p: { namespace: string; target: string }): AccessScope => ({
  namespace: p.namespace,
  environment: p.target,
});

/** Where the previous page ended: rows are listed newest first, ties broken by id. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

/**
 * The newest `limit` rows the caller may see. Grants are name patterns, judged here rather than
 * in SQL, so rows are read page by page until `limit` visible ones are found: a caller who sees
 * one namespace gets its rows even when the newest `limit` rows overall are all elsewhere. At
 * most `maxScanned` rows are read, which bounds one request's cost.
 */
export async function newestVisible<T>(
  fetchPage: (before: PageCursor | undefined, size: number) => Promise<T[]>,
  cursorOf: (row: T) => PageCursor,
  visible: (row: T) => boolean,
  limit: number,
  maxScanned = 5_000,
): Promise<T[]> {
  const found: T[] = [];
  let before: PageCursor | undefined;
  for (let scanned = 0; found.length < limit && scanned < maxScanned; ) {
    const size = Math.min(Math.max(limit * 2, 100), maxScanned - scanned);
    const page = await fetchPage(before, size);
    scanned += page.length;
    for (const row of page) if (visible(row) && found.length < limit) found.push(row);
    if (page.length < size) break;
    before = cursorOf(page[page.length - 1] as T);
  }
  return found;
}
