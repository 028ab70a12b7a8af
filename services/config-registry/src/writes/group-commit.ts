import { bindActiveContext, type Logger, type Queryable } from "@nexus/kit";
import pg from "pg";
import type { CommitResult, CommittedWrite, WriteStore } from "./write-store.js";

/** Most writes one statement commits. */
const GROUP_MAX = 8;
export interface GroupCommitOptions {
  /**
   * Commit statements of this instance in flight at once (1). A write that finds fewer goes at
   * once, as it would without grouping (one writer waits for nothing); one that finds them all
   * busy waits for one to end and goes with the others that queued meanwhile: concurrent writers
   * share a round trip, a plan's start-up and a WAL flush instead of each paying for them. One
   * made larger groups than two and cost less CPU per write in both benchmarks, with a lower p99
   * (test/bench/README.md (aa)).
   */
  inFlightMax?: number;
  /**
   * A statement still running after this long (20 ms) is waiting for a row lock (another
   * transaction holds a namespace of it: a contended write, a Git import): it stops counting as
   * in flight, so writes to other namespaces do not wait behind it.
   */
  slowMs?: number;
}

interface Waiting {
  write: CommittedWrite;
  /** Runs in the trace context of the request that wrote it (a statement's span joins that trace). */
  inContext: <T>(fn: () => T) => T;
  resolve(result: CommitResult | null): void;
  reject(err: unknown): void;
}

/** The same shape as the first waiting write, one per namespace, in arrival order. */
export function takeGroup<T extends { write: CommittedWrite }>(queue: T[], max = GROUP_MAX): T[] {
  const first = queue[0]!.write;
  const shape = (w: CommittedWrite) => `${w.heads.length}-${w.outbox.ids.length}`;
  const namespaces = new Set<string>();
  const group: T[] = [];
  for (let i = 0; i < queue.length && group.length < max; ) {
    const w = queue[i]!.write;
    if (shape(w) === shape(first) && !namespaces.has(w.revision.namespace)) {
      namespaces.add(w.revision.namespace);
      group.push(queue.splice(i, 1)[0]!);
    } else i++;
  }
  return group;
}

/**
 * Autocommit writes of this instance (those not inside a caller's transaction), committed in
 * groups when they come faster than Postgres answers. Each write still applies or not by its own
 * swap; what one statement commits for several is what each would have committed alone.
 */
export function createGroupCommitter(
  deps: {
    pool: Queryable;
    writes: Pick<WriteStore, "commitWrite" | "commitGroup" | "groupable">;
    logger: Pick<Logger, "warn">;
  },
  options: GroupCommitOptions = {},
) {
  const inFlightMax = options.inFlightMax ?? 1;
  const slowMs = options.slowMs ?? 20;
  const queue: Waiting[] = [];
  let inFlight = 0;

  function pump(): void {
    while (inFlight < inFlightMax && queue.length > 0) {
      const group = takeGroup(queue);
      inFlight++;
      let counted = true;
      const done = () => {
        if (!counted) return;
        counted = false;
        inFlight--;
        pump();
      };
      const slow = setTimeout(done, slowMs);
      void run(group).finally(() => {
        clearTimeout(slow);
        done();
      });
    }
  }

  async function run(group: Waiting[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Waiting];
      return only
        .inContext(() => deps.writes.commitWrite(deps.pool, only.write))
        .then(only.resolve, only.reject);
    }
    try {
      // The shared statement's span goes to the first write's trace.
      const results = await group[0]!.inContext(() =>
        deps.writes.commitGroup(
          deps.pool,
          group.map((w) => w.write),
        ),
      );
      for (const [i, w] of group.entries()) w.resolve(results[i]!);
    } catch (err) {
      // Postgres refused the statement, so none of it applied: each write alone, for its own answer.
      // Anything else (the connection lost on the way) leaves each outcome unknown, as alone.
      if (!(err instanceof pg.DatabaseError)) {
        for (const w of group) w.reject(err);
        return;
      }
      deps.logger.warn(
        { err, writes: group.length },
        "Postgres refused a group of writes; committing each alone",
      );
      await Promise.all(
        group.map((w) =>
          w.inContext(() => deps.writes.commitWrite(deps.pool, w.write)).then(w.resolve, w.reject),
        ),
      );
    }
  }

  return {
    /** As `WriteStore.commitWrite` on the pool: the heads and places, or null if the swap failed. */
    commit(write: CommittedWrite): Promise<CommitResult | null> {
      if (!deps.writes.groupable(write)) return deps.writes.commitWrite(deps.pool, write);
      return new Promise((resolve, reject) => {
        queue.push({ write, inContext: bindActiveContext(), resolve, reject });
        pump();
      });
    },
  };
}
export type GroupCommitter = ReturnType<typeof createGroupCommitter>;
