/**
 * Cross-namespace dependencies at the level of JSON pointers: which parts of another namespace's
 * document a namespace's resolution reads, so that a write to that namespace re-resolves only the
 * readers whose parts it changed (a platform namespace read by hundreds of services, most writes
 * touching keys few of them read).
 */

/**
 * Namespace → the pointers of its merged, unresolved document a resolution follows references to
 * (`ResolveResult.reads`), sorted; null when not known (stored before pointers were kept), which
 * counts as every pointer.
 */
export type DependencyMap = ReadonlyMap<string, readonly string[] | null>;

/** A namespace that reads another, with the pointers of the other's document it reads. */
export interface Dependent {
  name: string;
  pointers: readonly string[] | null;
}

/**
 * Whether a change at `changed` pointers (of a document's layer, `changedPaths`) can reach a
 * reader of `pointers`: one is the other, or one lies under the other (a replaced parent changes
 * every child; a changed child changes the parent's subtree). Escaped tokens never hold `/`, so a
 * prefix ending at `/` is a prefix in tokens.
 */
export function readsOverlap(pointers: readonly string[] | null, changed: readonly string[]): boolean {
  if (pointers === null) return true;
  for (const p of pointers) {
    for (const c of changed) {
      if (p === c) return true;
      if (c.length > p.length ? c.startsWith(`${p}/`) : p.startsWith(`${c}/`)) return true;
    }
  }
  return false;
}

/** The readers a change at `changed` pointers can reach; all of them when `changed` is unknown. */
export function readersReached(
  dependents: readonly Dependent[],
  changed: readonly string[] | undefined,
): Dependent[] {
  if (changed === undefined) return [...dependents];
  return dependents.filter((d) => readsOverlap(d.pointers, changed));
}

/** The union of the reads of several resolutions (one per environment). */
export function unionReads(
  into: Map<string, Set<string>>,
  reads: ReadonlyMap<string, readonly string[]>,
): Map<string, Set<string>> {
  for (const [namespace, pointers] of reads) {
    const set = into.get(namespace);
    if (set) for (const p of pointers) set.add(p);
    else into.set(namespace, new Set(pointers));
  }
  return into;
}

export interface NextDependencies {
  /** The dependencies to store, or null when they stay as stored. */
  next: Map<string, string[] | null> | null;
  /**
   * Namespaces read at a pointer not read before (or read for the first time): a concurrent write
   * to one of them did not know it reaches this reader, so it must fail its swap (see `others`).
   */
  grown: string[];
}

/**
 * A namespace's dependencies after it was resolved again. Having resolved every environment, the
 * reads found are exact; having resolved only some, the others may still read what they read
 * before, so the stored pointers only grow (and an unknown set stays unknown). `self` (the
 * namespace itself) is never a dependency.
 */
export function nextDependencies(
  self: string,
  stored: DependencyMap,
  found: ReadonlyMap<string, ReadonlySet<string>>,
  complete: boolean,
): NextDependencies {
  const next = new Map<string, string[] | null>();
  const grown: string[] = [];
  if (!complete) for (const [namespace, pointers] of stored) next.set(namespace, pointers && [...pointers]);
  for (const [namespace, pointers] of found) {
    if (namespace === self) continue;
    const before = stored.has(namespace) ? stored.get(namespace)! : undefined;
    if (!complete && before === null) continue; // unknown stays unknown
    const merged = new Set(complete ? pointers : [...(before ?? []), ...pointers]);
    next.set(namespace, [...merged].sort());
    if (before === undefined || (before !== null && [...pointers].some((p) => !before.includes(p))))
      grown.push(namespace);
  }
  grown.sort();
  return { next: sameDependencies(stored, next) ? null : next, grown };
}

export function sameDependencies(a: DependencyMap, b: DependencyMap): boolean {
  if (a.size !== b.size) return false;
  for (const [namespace, pointers] of a) {
    if (!b.has(namespace)) return false;
    const other = b.get(namespace)!;
    if (pointers === null || other === null) {
      if (pointers !== other) return false;
      continue;
    }
    if (pointers.length !== other.length || pointers.some((p, i) => p !== other[i])) return false;
  }
  return true;
}

/** Rows of `namespace_dependencies` for one namespace (`pointers` null = not known). */
export function dependencyRows(
  namespace: string,
  dependencies: DependencyMap,
): { namespace: string; depends_on: string; pointers: readonly string[] | null }[] {
  return [...dependencies].map(([dependsOn, pointers]) => ({ namespace, depends_on: dependsOn, pointers }));
}

/** Stored rows (`depends_on`, `pointers`) as a map. */
export function dependencyMapOf(
  rows: readonly { dependsOn: string; pointers: readonly string[] | null }[],
): Map<string, readonly string[] | null> {
  return new Map(rows.map((r) => [r.dependsOn, r.pointers === null ? null : [...r.pointers].sort()]));
}
