import type { Pool } from "@nexus/kit";
import type { RolloutStore } from "./rollout-store.js";
import type { RolloutPlan } from "./rollout-types.js";

/** Place key: (namespace, environment). */
const placeOf = (namespace: string, environment: string) => `${namespace}\u0000${environment}`;

/** Most places one statement reads. */
const MAX_PLACES = 500;

/**
 * The newest rollout plan of a place, for the SDK's question "may I apply revision r?", read from
 * Postgres as rarely as is safe.
 *
 * What the answer must honour: the plan is committed before the promotion writes, so every
 * revision written after a plan's commit must be judged with that plan (or a newer one). Revisions
 * of a namespace commit in number order (the registry's swap on the namespace row), so "revision
 * r committed before time T" holds for every r <= R once R is known to be committed at T.
 *
 * 1. Reads are shared: a question waits for the next read that starts after it arrived (never one
 *    already out, which may predate its revision's commit), and one statement reads the newest
 *    plan of every place asked about meanwhile.
 * 2. A read that found no plan, or a finished one (completed or aborted: neither changes again),
 *    is remembered with `upTo` = the highest revision of the namespace known committed when the
 *    read was sent, and answers later questions with revision <= upTo from memory. Sound: a plan
 *    committed after that read was committed after revision upTo, hence after every revision <=
 *    upTo, so it is not one that must hold them; every plan committed before them, the read saw.
 *    (A plan created later still holds them when its hold revision is older; an instance asking
 *    after it then gets "apply" from memory, exactly what it would have got by asking a moment
 *    earlier: such a revision was written before the plan, where the rollout never promised a
 *    hold.) An active plan is never remembered: waves move, and label-wave members are recorded
 *    on every question.
 * 3. What counts as committed comes only from `config.changed` events this instance consumed
 *    (`seen`), never from the question: an instance that names a revision that does not exist yet
 *    must not stretch memory over the revision a later promotion writes. A question for a revision
 *    newer than anything seen is answered from a fresh read (that read is not remembered for it).
 *
 * A newer revision cannot be answered without a read: a plan another instance commits reaches this
 * one only through Postgres, and nothing orders that delivery before the question, which comes
 * over NATS from an instance that read the promotion's revision. So each (place, new revision)
 * costs one read per orchestrator instance at most, not one per asking instance.
 */
export function createRolloutAnswers(deps: {
  pool: Pool;
  rollouts: Pick<RolloutStore, "newestOf">;
  /** Places remembered at most (the oldest entry goes first). Default 10,000. */
  maxPlaces?: number;
}) {
  const maxPlaces = deps.maxPlaces ?? 10_000;
  /** Highest revision per namespace known committed (from consumed `config.changed`). */
  const committed = new Map<string, number>();
  const remembered = new Map<string, { plan: RolloutPlan | null; upTo: number }>();
  type Waiter = { resolve(plan: RolloutPlan | null): void; reject(err: unknown): void };
  const queue = new Map<string, { namespace: string; environment: string; waiters: Waiter[] }>();
  let reading = false;

  async function drain(): Promise<void> {
    try {
      while (queue.size > 0) {
        const batch = [...queue.values()].slice(0, MAX_PLACES);
        for (const b of batch) queue.delete(placeOf(b.namespace, b.environment));
        // Taken before the statement is sent: each of these revisions committed before the read.
        const upTo = batch.map((b) => committed.get(b.namespace) ?? 0);
        let plans: Map<string, RolloutPlan>;
        try {
          plans = await deps.rollouts.newestOf(deps.pool, batch);
        } catch (err) {
          for (const b of batch) for (const w of b.waiters) w.reject(err);
          continue;
        }
        batch.forEach((b, i) => {
          const key = placeOf(b.namespace, b.environment);
          const plan = plans.get(key) ?? null;
          if (plan === null || plan.status !== "active") remember(key, plan, upTo[i] ?? 0);
          else remembered.delete(key);
          for (const w of b.waiters) w.resolve(plan);
        });
      }
    } finally {
      reading = false;
    }
  }

  function remember(key: string, plan: RolloutPlan | null, upTo: number) {
    remembered.delete(key);
    if (upTo <= 0) return;
    remembered.set(key, { plan, upTo });
    if (remembered.size > maxPlaces) {
      const oldest = remembered.keys().next().value;
      if (oldest !== undefined) remembered.delete(oldest);
    }
  }

  return {
    /** A `config.changed` of this namespace at this revision was consumed: it is committed. */
    seen(namespace: string, revision: number) {
      if ((committed.get(namespace) ?? 0) < revision) committed.set(namespace, revision);
    },
    /** The plan that decides `revision` of the place (null: none). */
    newest(namespace: string, environment: string, revision: number): Promise<RolloutPlan | null> {
      const key = placeOf(namespace, environment);
      const known = remembered.get(key);
      if (known && revision <= known.upTo) return Promise.resolve(known.plan);
      return new Promise((resolve, reject) => {
        const entry = queue.get(key) ?? { namespace, environment, waiters: [] };
        entry.waiters.push({ resolve, reject });
        queue.set(key, entry);
        // From the next turn: questions that arrived together share the statement.
        if (!reading) {
          reading = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}
export type RolloutAnswers = ReturnType<typeof createRolloutAnswers>;
