/** How far an instance is behind its environment's head. */
export function lagOf(
  instance: { revision: number | null; hash: string | null },
  head: { revision: number; hash: string; changedAt: Date } | null,
  now: number,
): { revisions: number | null; seconds: number | null } {
  if (!head || instance.revision === null) return { revisions: null, seconds: null };
  const behind =
    instance.revision < head.revision || (instance.revision === head.revision && instance.hash !== head.hash);
  return {
    revisions: Math.max(0, head.revision - instance.revision),
    seconds: behind ? Math.max(0, Math.round((now - head.changedAt.getTime()) / 1000)) : 0,
  };
}

/**
 * A revision has converged when no present instance still runs an older one; convergence time is
 * from its first sighting to the last applied ack (null while not converged or never acked).
 */
export function convergenceOf(row: { published_at: Date; older: number; last_applied_at: Date | null }): {
  converged: boolean;
  convergenceSeconds: number | null;
} {
  const converged = row.older === 0;
  if (!converged || !row.last_applied_at) return { converged, convergenceSeconds: null };
  const ms = row.last_applied_at.getTime() - row.published_at.getTime();
  return { converged, convergenceSeconds: Math.max(0, Math.round(ms / 100) / 10) };
}
