/**
 * What to do with an announcement (config.changed) or a fetched document, given what the client
 * runs. Pure, so every ordering and gap rule is unit-tested without NATS or HTTP.
 *
 * Facts from the registry this relies on (ARCHITECTURE.md, config.changed contract):
 * - `revision` is the namespace revision now in effect for the environment; it never decreases.
 *   Revisions count per namespace, so an environment may jump from 3 to 7 without anything
 *   missed (4-6 changed other layers). A jump alone is not a gap.
 * - `previousRevision`/`previousHash` are what the environment resolved to right before this
 *   change. If they are not what the client last knew, it missed at least one event.
 * - Variable or dependency changes keep `revision` and move `hash`: compare hashes, not only
 *   revisions.
 */

/** A resolved revision: the pair that identifies what an instance runs. */
export interface Position {
  revision: number;
  hash: string;
}

export interface ChangeAnnouncement extends Position {
  previousRevision: number | null;
  previousHash: string | null;
}

export type ChangeDecision =
  | { action: "ignore"; reason: "current" | "older" | "known" }
  | { action: "fetch"; gap: boolean };

/**
 * @param held what the client runs now.
 * @param seen the newest position the client knows of (announced or fetched), which is ahead of
 *   `held` while a change is being fetched or applied, or after one was rejected.
 */
export function decideOnChange(held: Position, seen: Position, event: ChangeAnnouncement): ChangeDecision {
  // Per-key order: an announcement older than what runs (or than what is known) is late, never
  // a rollback (a rollback is a new, higher revision).
  if (event.revision < held.revision || event.revision < seen.revision)
    return { action: "ignore", reason: "older" };
  if (same(event, held)) return { action: "ignore", reason: "current" };
  if (same(event, seen)) return { action: "ignore", reason: "known" };
  // Everything else is fetched, including the content that runs coming back under a newer
  // revision (a write back after a refused change): nothing to apply, but the instance must
  // report that revision, or it would look like drift.
  const contiguous = event.previousHash === seen.hash && event.previousRevision === seen.revision;
  return { action: "fetch", gap: !contiguous };
}

function same(a: Position, b: Position): boolean {
  return a.revision === b.revision && a.hash === b.hash;
}

export type FetchedDecision = "apply" | "unchanged" | "older" | "known-rejected";

/**
 * @param force a resync: re-apply even what was rejected before.
 */
export function decideOnFetched(
  held: Position,
  fetched: Position,
  lastRejected: Position | undefined,
  force = false,
): FetchedDecision {
  if (fetched.hash === held.hash) return "unchanged";
  // A read served from a lagging cache or replica must not take the instance backwards.
  if (fetched.revision < held.revision) return "older";
  // The same content was refused already; only a resync asks the application again.
  if (!force && lastRejected && fetched.hash === lastRejected.hash) return "known-rejected";
  return "apply";
}

/**
 * Did a read catch up with an announcement? A read can lag the event that announced it (the
 * event leaves at commit; the registry's cache is refreshed right after), so a read older than
 * the announced target is retried shortly instead of trusted.
 */
export function reached(read: Position, target: Position | undefined): boolean {
  if (!target) return true;
  return read.hash === target.hash || read.revision > target.revision;
}

/** The newer of two positions; at the same revision the later one (`b`) wins. */
export function newest(a: Position, b: Position): Position {
  return b.revision >= a.revision ? b : a;
}
