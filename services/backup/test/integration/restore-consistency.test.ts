import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

const NAMESPACES = ["alpha", "beta", "gamma", "delta"];
const WRITES = 1_000;
const CONCURRENCY = 16;

let h: BackupHarness;
let app: BackupApp;

async function waitForBackup(id: string) {
  return until(async () => {
    const b = (await h.call(app, "GET", `/v1/backups/${id}`)).body;
    return b.status !== "running" && !["pending", "running"].includes(b.verification) ? b : undefined;
  }, 60_000);
}

/**
 * The registry's own invariants across its tables: each namespace's head revision is the newest
 * of its revisions, revisions are numbered 1..n without a gap, and each layer's head is one of
 * them with the same hash. A backup that read its tables at different moments breaks them.
 */
async function registryInvariants() {
  const r = await h.pool.query<{
    name: string;
    head: number;
    max: number | null;
    n: number;
    bad_layers: number;
  }>(`
    SELECT n.name, n.head_revision AS head,
           (SELECT max(revision) FROM config_registry.revisions r WHERE r.namespace = n.name) AS max,
           (SELECT count(*)::int FROM config_registry.revisions r WHERE r.namespace = n.name) AS n,
           (SELECT count(*)::int FROM config_registry.layers l
             WHERE l.namespace = n.name AND l.revision > 0 AND NOT EXISTS (
               SELECT 1 FROM config_registry.revisions r
                WHERE r.namespace = l.namespace AND r.revision = l.revision AND r.hash = l.hash)) AS bad_layers
      FROM config_registry.namespaces n ORDER BY n.name`);
  return r.rows;
}

beforeAll(async () => {
  h = await startBackupHarness();
  for (const name of NAMESPACES)
    expect((await h.registryCall("POST", "/v1/namespaces", { name })).status).toBe(201);
  app = await h.build();
}, 60_000);
afterAll(async () => h?.close());

describe("a backup taken while the registry writes", () => {
  it(`restores to one consistent point of ${WRITES} concurrent writes`, async () => {
    let next = 0;
    let backupId: string | undefined;
    const writer = async () => {
      while (next < WRITES) {
        const i = next++;
        // Start the backup once a quarter of the writes are in, while the rest go on.
        if (i === WRITES / 4) {
          const started = await h.call(app, "POST", "/v1/backups", {});
          expect(started.status).toBe(202);
          backupId = started.body.id;
        }
        const ns = NAMESPACES[i % NAMESPACES.length];
        const res = await h.registryCall("PUT", `/v1/namespaces/${ns}/layers/base`, {
          write: i,
          payload: "x".repeat(200),
        });
        expect(res.status).toBeLessThan(300);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, writer));
    const b = await waitForBackup(backupId!);
    expect(b).toMatchObject({ status: "completed", verification: "verified" });

    const written = await h.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM config_registry.revisions",
    );
    expect(written.rows[0]!.n).toBe(WRITES);
    // The backup's point lies strictly inside the writes.
    expect(b.rows).toBeGreaterThan(0);

    const plan = await h.call(app, "POST", `/v1/backups/${b.id}/restore`, { dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.problems).toEqual([]);
    const revisionsPlan = plan.body.tables.find(
      (t: { table: string }) => t.table === "config_registry.revisions",
    );
    expect(revisionsPlan.rowsNow).toBe(WRITES);
    expect(revisionsPlan.rowsInBackup).toBeGreaterThanOrEqual(WRITES / 4 - CONCURRENCY);
    expect(revisionsPlan.rowsInBackup).toBeLessThan(WRITES);

    const restore = await h.call(app, "POST", `/v1/backups/${b.id}/restore`, { dryRun: false });
    expect(restore.status).toBe(202);
    const done = await until(async () => {
      const r = (await h.call(app, "GET", `/v1/restores/${restore.body.id}`)).body;
      return r.status !== "running" ? r : undefined;
    }, 60_000);
    expect(done).toMatchObject({ status: "completed", error: null });

    const restored = await h.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM config_registry.revisions",
    );
    expect(restored.rows[0]!.n).toBe(revisionsPlan.rowsInBackup);
    const invariants = await registryInvariants();
    expect(invariants).toHaveLength(NAMESPACES.length);
    for (const ns of invariants) {
      expect(ns.bad_layers).toBe(0);
      expect(ns.max ?? 0).toBe(ns.head);
      expect(ns.n).toBe(ns.head);
    }

    // The restored system takes writes again: the sequences and heads are where the backup left them.
    const res = await h.registryCall("PUT", "/v1/namespaces/alpha/layers/base", { after: "restore" });
    expect(res.status).toBeLessThan(300);
    const alpha = (await registryInvariants()).find((n) => n.name === "alpha")!;
    expect(alpha.n).toBe(alpha.head);
  }, 120_000);
});
