import type { ActiveFinding, DesiredFinding } from "./finding-types.js";

/** One instance joined with what it should run, as the reconciler reads it. */
export interface InstanceCandidate {
  namespace: string;
  environment: string;
  instanceId: string;
  service: string;
  revision: number | null;
  hash: string | null;
  rejectedRevision: number | null;
  rejectedHash: string | null;
  rejectedReason: string | null;
  headRevision: number | null;
  headHash: string | null;
  headChangedAt: Date | null;
  /**
   * When the instance fell behind: the first publication of a revision newer than the one it runs
   * (or of the head's content, for an older content of the head's revision); null: the head's change.
   */
  behindSince: Date | null;
  /** Every hash known for the instance's revision; empty when the revision was never seen. */
  knownHashes: string[];
}

export const instanceFindingKey = (kind: string, ns: string, env: string, instanceId: string) =>
  `${kind}:${ns}/${env}/${instanceId}`;
export const documentFindingKey = (kind: string, ns: string, env: string) => `${kind}:${ns}/${env}`;

const secondsSince = (then: Date, now: number) => Math.max(0, Math.round((now - then.getTime()) / 1000));

/**
 * The findings one instance should have now:
 * - rejected: it refused a revision newer than the one it runs;
 * - stale: it runs an older revision (or the same revision with an older hash) and the grace
 *   period since it fell behind is over, unless it refused that revision (then the rejection says
 *   it better). Counted from the first newer revision, not the newest: a change published while an
 *   instance is already stale keeps it stale, rather than resolving its finding and raising a new
 *   one once the new grace period is over;
 * - divergent: its hash is none of the hashes its revision ever had.
 */
export function desiredForInstance(c: InstanceCandidate, graceMs: number, now: number): DesiredFinding[] {
  const out: DesiredFinding[] = [];
  const where = `${c.namespace}/${c.environment}`;
  const who = `instance ${c.instanceId} of ${c.service}`;
  const common = {
    namespace: c.namespace,
    environment: c.environment,
    service: c.service,
    instanceIds: [c.instanceId],
    actual: { revision: c.revision, hash: c.hash },
  };
  const rejectedNewer =
    c.rejectedRevision !== null && (c.revision === null || c.rejectedRevision > c.revision);
  if (rejectedNewer) {
    out.push({
      ...common,
      key: instanceFindingKey("rejected", c.namespace, c.environment, c.instanceId),
      kind: "rejected",
      expected: { revision: c.rejectedRevision, hash: c.rejectedHash },
      severity: "warning",
      summary: `${who} rejected revision ${c.rejectedRevision} of ${where} and ${
        c.revision === null ? "runs no known revision" : `keeps running revision ${c.revision}`
      }: ${c.rejectedReason ?? "no reason given"}`,
      reason: c.rejectedReason ?? undefined,
    });
  }
  if (c.revision !== null && c.hash !== null && c.headRevision !== null && c.headChangedAt) {
    const behind =
      c.revision < c.headRevision ||
      (c.revision === c.headRevision && c.hash !== c.headHash && c.knownHashes.includes(c.hash));
    const overdue = now >= (c.behindSince ?? c.headChangedAt).getTime() + graceMs;
    const refusedHead = rejectedNewer && (c.rejectedRevision ?? 0) >= c.headRevision;
    if (behind && overdue && !refusedHead) {
      const what =
        c.revision < c.headRevision ? `revision ${c.revision}` : `an older content of revision ${c.revision}`;
      out.push({
        ...common,
        key: instanceFindingKey("stale", c.namespace, c.environment, c.instanceId),
        kind: "stale",
        expected: { revision: c.headRevision, hash: c.headHash },
        severity: "warning",
        summary: `${who} still runs ${what} of ${where}; revision ${c.headRevision} was published ${secondsSince(
          c.headChangedAt,
          now,
        )} s ago (grace ${Math.round(graceMs / 1000)} s)`,
      });
    }
  }
  if (c.revision !== null && c.hash !== null && c.knownHashes.length > 0 && !c.knownHashes.includes(c.hash)) {
    const expectedHash =
      c.revision === c.headRevision && c.headHash
        ? c.headHash
        : (c.knownHashes[c.knownHashes.length - 1] ?? null);
    out.push({
      ...common,
      key: instanceFindingKey("divergent", c.namespace, c.environment, c.instanceId),
      kind: "divergent",
      expected: { revision: c.revision, hash: expectedHash },
      severity: "critical",
      summary: `${who} claims revision ${c.revision} of ${where} but runs different content (hash ${c.hash.slice(
        0,
        12,
      )}…, expected ${expectedHash?.slice(0, 12)}…): a local override or tampering`,
    });
  }
  return out;
}

export interface TransitionPlan {
  /** New findings: announce. */
  open: DesiredFinding[];
  /** Still true: refresh (content changed, or last seen long ago). Includes silent re-opens. */
  update: { finding: ActiveFinding; desired: DesiredFinding; reopened: boolean }[];
  /** No longer true, waiting out the quiet period. */
  resolving: ActiveFinding[];
  /** No longer true for the whole quiet period: announce the resolution. */
  resolve: ActiveFinding[];
}

export interface PlanOptions {
  now: number;
  /** A finding no longer true resolves after this long; 0 resolves at once. */
  quietMs: number;
  /** Refresh last-seen of an unchanged open finding at most this often. */
  touchEveryMs: number;
}

const sameContent = (f: ActiveFinding, d: DesiredFinding) =>
  f.expected.revision === d.expected.revision &&
  f.expected.hash === d.expected.hash &&
  f.actual.revision === d.actual.revision &&
  f.actual.hash === d.actual.hash &&
  f.summary === d.summary &&
  f.reason === d.reason &&
  JSON.stringify(f.details ?? {}) === JSON.stringify(d.details ?? {});

/** True when applying the plan would write nothing. */
export const isEmptyPlan = (p: TransitionPlan) =>
  p.open.length === 0 && p.update.length === 0 && p.resolving.length === 0 && p.resolve.length === 0;

/**
 * Compare the active findings of a scope with what should be true now. Only an opening and a
 * final resolution are announced; a finding that comes back during its quiet period is updated
 * (and counted as a re-open), so a flapping instance produces one detected and one resolved.
 */
export function planTransitions(
  active: readonly ActiveFinding[],
  desired: readonly DesiredFinding[],
  opts: PlanOptions,
): TransitionPlan {
  const plan: TransitionPlan = { open: [], update: [], resolving: [], resolve: [] };
  const byKey = new Map(active.map((f) => [f.key, f]));
  const wanted = new Set<string>();
  for (const d of desired) {
    wanted.add(d.key);
    const f = byKey.get(d.key);
    if (!f) {
      plan.open.push(d);
      continue;
    }
    const reopened = f.status === "resolving";
    const stale = opts.now - f.lastSeenAt.getTime() >= opts.touchEveryMs;
    if (reopened || stale || !sameContent(f, d)) plan.update.push({ finding: f, desired: d, reopened });
  }
  for (const f of active) {
    if (wanted.has(f.key)) continue;
    if (opts.quietMs <= 0) {
      plan.resolve.push(f);
    } else if (f.status === "open") {
      plan.resolving.push(f);
    } else if (f.resolvingSince && opts.now - f.resolvingSince.getTime() >= opts.quietMs) {
      plan.resolve.push(f);
    }
  }
  return plan;
}

/** What the inventory holds about an instance when its finding is resolved. */
export interface InstanceNow {
  revision: number | null;
  hash: string | null;
  goneAt: Date | null;
  rejectedRevision: number | null;
}

/** Why an instance finding no longer holds, in words, from the instance's current row. */
export function resolutionFor(
  f: Pick<ActiveFinding, "kind" | "instanceIds">,
  instance: InstanceNow | undefined,
): string {
  if (f.kind === "policy") return "the document now passes every policy";
  if (!instance) return "the instance was removed from the inventory";
  if (instance.goneAt) return "the instance went away";
  switch (f.kind) {
    case "stale":
      // Not behind any more because it refused the newer revision: a rejected finding tells it.
      if (instance.rejectedRevision !== null && (instance.revision ?? 0) < instance.rejectedRevision)
        return `the instance rejected revision ${instance.rejectedRevision}; a rejected finding replaces this one`;
      return `the instance now runs revision ${instance.revision}`;
    case "rejected":
      return `the instance applied revision ${instance.revision}`;
    case "divergent":
      return `the instance's content matches revision ${instance.revision} again`;
    default:
      return "no longer true";
  }
}
