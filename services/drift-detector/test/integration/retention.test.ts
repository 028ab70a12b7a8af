import { randomUUID } from "node:crypto";
import { createLogger } from "@nexus/kit";
import { createTestDatabase, type TestDatabase } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRetentionService } from "../../src/retention/retention-service.js";
import { createRetentionStore } from "../../src/retention/retention-store.js";
import { DETECTOR_MIGRATIONS, DETECTOR_SCHEMA } from "./harness.js";

const DAY = 86_400_000;
const now = new Date("2026-11-22T12:00:00Z");
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY);

describe("retention", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS });
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function finding(status: "open" | "resolved", resolvedAt: Date | null, key: string): Promise<string> {
    const id = randomUUID();
    await db.pool.query(
      `INSERT INTO findings (id, finding_key, kind, namespace, environment, severity, status, summary,
         first_seen_at, last_seen_at, resolved_at)
       VALUES ($1, $2, 'stale', 'shop', 'production', 'warning', $3, 'stale', $4, $4, $5)`,
      [id, key, status, daysAgo(90), resolvedAt],
    );
    await db.pool.query(
      `INSERT INTO remediations (id, finding_id, namespace, environment, service, instance_id, action,
         target_revision, attempt, request_id, requested_at)
       VALUES ($1, $2, 'shop', 'production', 'web', 'i-1', 'resync', 3, 1, $3, $4)`,
      [randomUUID(), id, randomUUID(), daysAgo(90)],
    );
    return id;
  }

  async function report(revision: number, reportedAt: Date): Promise<void> {
    await db.pool.query(
      `INSERT INTO revision_reports (namespace, environment, revision, instance_id, status, reported_at)
       VALUES ('shop', 'production', $1, $2, 'applied', $3)`,
      [revision, `i-${randomUUID()}`, reportedAt],
    );
  }

  it("deletes old resolved findings with their remediations and old reports, keeping open findings and the current revision's reports", async () => {
    await db.pool.query(
      "INSERT INTO heads (namespace, environment, revision, hash, changed_at, learnt_from) VALUES ('shop', 'production', 7, $1, $2, 'event')",
      ["a".repeat(64), daysAgo(60)],
    );
    const oldResolved = await finding("resolved", daysAgo(40), "k-old");
    const recentResolved = await finding("resolved", daysAgo(5), "k-recent");
    const open = await finding("open", null, "k-open");
    await report(5, daysAgo(50)); // old, not current: goes
    await report(6, daysAgo(45)); // old, not current: goes
    await report(7, daysAgo(60)); // old but the revision running now: stays
    await report(6, daysAgo(2)); // recent: stays

    const retention = createRetentionService({
      pool: db.pool,
      store: createRetentionStore(),
      logger: createLogger({ service: "retention-test", level: "silent" }),
      maxAgeMs: 30 * DAY,
      batchSize: 1, // one row per statement: the batching loop runs to the end
      now: () => now,
    });
    expect(await retention.sweep()).toEqual({ findings: 1, reports: 2 });

    const ids = (await db.pool.query<{ id: string }>("SELECT id FROM findings ORDER BY id")).rows.map(
      (r) => r.id,
    );
    expect(ids.sort()).toEqual([recentResolved, open].sort());
    const remediationsOf = await db.pool.query<{ finding_id: string }>("SELECT finding_id FROM remediations");
    expect(remediationsOf.rows.map((r) => r.finding_id)).not.toContain(oldResolved);
    expect(remediationsOf.rowCount).toBe(2);
    const reports = await db.pool.query<{ revision: number }>(
      "SELECT revision FROM revision_reports ORDER BY revision",
    );
    expect(reports.rows.map((r) => r.revision)).toEqual([6, 7]);

    // A second sweep has nothing left to do; 0 days keeps everything.
    expect(await retention.sweep()).toEqual({ findings: 0, reports: 0 });
    const keepAll = createRetentionService({
      pool: db.pool,
      store: createRetentionStore(),
      logger: createLogger({ service: "retention-test", level: "silent" }),
      maxAgeMs: 0,
      now: () => new Date(now.getTime() + 365 * DAY),
    });
    expect(await keepAll.sweep()).toEqual({ findings: 0, reports: 0 });
    expect((await db.pool.query("SELECT 1 FROM findings")).rowCount).toBe(2);
  });
});
