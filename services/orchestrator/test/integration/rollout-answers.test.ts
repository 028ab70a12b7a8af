import { randomUUID } from "node:crypto";
import type { Pool } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRolloutAnswers } from "../../src/rollouts/rollout-answers.js";
import { targetFor } from "../../src/rollouts/rollout-fns.js";
import { createRolloutStore } from "../../src/rollouts/rollout-store.js";
import { countingPool } from "./counting-pool.js";
import { ORCHESTRATOR_MIGRATIONS, ORCHESTRATOR_SCHEMA } from "./harness.js";

const store = createRolloutStore();

/**
 * Two orchestrator instances' answers on one database (as two processes would have): what one
 * remembered never hides a plan the other commits from a revision written after that plan.
 */
describe("rollout answers from memory", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ schema: ORCHESTRATOR_SCHEMA, migrationsDir: ORCHESTRATOR_MIGRATIONS });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const instance = () => {
    const { pool, count } = countingPool(db.pool as unknown as Pool);
    return {
      answers: createRolloutAnswers({ pool, rollouts: store }),
      get reads() {
        return count(/FROM rollouts/);
      },
    };
  };
  /** What the SDK is told for `revision` by this instance. */
  const ask = async (i: ReturnType<typeof instance>, ns: string, revision: number, id = "i-1") =>
    targetFor(await i.answers.newest(ns, "production", revision), { instanceId: id, labels: {} }, revision)
      .decision;
  /** A wave rollout's plan as the promote step commits it (another instance's work). */
  async function plan(ns: string, holdRevision: number): Promise<string> {
    const runId = randomUUID();
    await db.pool.query(
      `INSERT INTO runs (id, pipeline, pipeline_version, definition, namespace, source_env, target_env,
         source_revision, trigger, started_by, status)
       VALUES ($1, 'p', 1, '{}', $2, 'staging', 'production', 1, 'manual', 'alice', 'running')`,
      [runId, ns],
    );
    await store.start(db.pool, {
      runId,
      pipeline: "p",
      namespace: ns,
      environment: "production",
      holdRevision,
      waves: [{ percent: 50 }, { percent: 100 }],
    });
    return runId;
  }

  it("a question asked twice costs one read; a question for a revision not yet seen committed reads", async () => {
    const a = instance();
    a.answers.seen("alpha", 5);
    expect(await ask(a, "alpha", 5)).toBe("apply");
    expect(await ask(a, "alpha", 5, "i-2")).toBe("apply");
    expect(await ask(a, "alpha", 4, "i-3")).toBe("apply");
    expect(a.reads).toBe(1);
    // Revision 6 is not known committed: each question reads.
    expect(await ask(a, "alpha", 6)).toBe("apply");
    expect(await ask(a, "alpha", 6, "i-2")).toBe("apply");
    expect(a.reads).toBe(3);
    a.answers.seen("alpha", 6);
    expect(await ask(a, "alpha", 6)).toBe("apply");
    expect(await ask(a, "alpha", 6, "i-2")).toBe("apply");
    expect(a.reads).toBe(4);
  });

  it("questions that arrive together share one statement", async () => {
    const a = instance();
    const names = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    for (const n of names) a.answers.seen(n, 3);
    const answers = await Promise.all(names.flatMap((n) => [ask(a, n, 3), ask(a, n, 3, "i-2")]));
    expect(answers.every((d) => d === "apply")).toBe(true);
    expect(a.reads).toBe(1);
  });

  it("a plan committed by another instance after a remembered answer holds every revision written after it", async () => {
    const a = instance();
    const b = instance();
    a.answers.seen("shop", 10);
    b.answers.seen("shop", 10);
    expect(await ask(a, "shop", 10)).toBe("apply");
    expect(await ask(b, "shop", 10)).toBe("apply");
    // b's promote step: plan (hold 10) committed, then the promotion writes revision 11.
    await plan("shop", 10);
    a.answers.seen("shop", 11);
    for (const id of ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"]) {
      expect(await ask(a, "shop", 11, id)).toBe("hold");
      expect(await ask(b, "shop", 11, id)).toBe("hold");
    }
    expect(await ask(a, "shop", 10)).toBe("apply");
  });

  it("a finished rollout is remembered; the next plan still holds the revision its promotion writes", async () => {
    const a = instance();
    const first = await plan("done", 20);
    await store.release(db.pool, first, 2, 21);
    await store.finish(db.pool, first, "completed");
    a.answers.seen("done", 21);
    expect(await ask(a, "done", 21)).toBe("apply");
    const before = a.reads;
    expect(await ask(a, "done", 21, "i-2")).toBe("apply");
    expect(a.reads).toBe(before);
    await plan("done", 21);
    a.answers.seen("done", 22);
    expect(await ask(a, "done", 22, "i-2")).toBe("hold");
    // An aborted rollout (remembered too) still holds what it was rolling out.
    const third = await plan("aborted", 30);
    await store.release(db.pool, third, 1, 31);
    await store.finish(db.pool, third, "aborted");
    a.answers.seen("aborted", 31);
    const held = await Promise.all(
      ["i-1", "i-2", "i-3", "i-4", "i-5", "i-6"].map((id) => ask(a, "aborted", 31, id)),
    );
    expect(held).toContain("hold");
    expect(await ask(a, "aborted", 30)).toBe("apply");
  });

  it("a question naming a revision nobody wrote yet does not stretch memory over a later promotion", async () => {
    const a = instance();
    a.answers.seen("bold", 7);
    // A confused or hostile instance asks about revision 1,000 before any plan exists.
    expect(await ask(a, "bold", 1_000)).toBe("apply");
    await plan("bold", 7);
    a.answers.seen("bold", 8);
    expect(await ask(a, "bold", 8)).toBe("hold");
  });
});
