import { randomUUID } from "node:crypto";
import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY_MS } from "../../src/retention/retention-fns.js";
import { createRetentionJob, type RetentionConfig } from "../../src/retention/retention-job.js";
import { createRetentionStore } from "../../src/retention/retention-store.js";
import { type Harness, NOTIFIER_SCHEMA, startNotifier } from "./harness.js";

const logger = createLogger({ service: "retention-test", level: "silent" });
const daysAgo = (d: number) => new Date(Date.now() - d * DAY_MS);

describe("retention: old alerts, history and deliveries are deleted on a schedule, under a lease", () => {
  let h: Harness;
  const config = (): RetentionConfig => ({
    maxAgeMs: 10 * DAY_MS,
    deadLetterMaxAgeMs: 30 * DAY_MS,
    cron: "0 0 1 1 *",
    batchSize: 2,
    databaseUrl: h.db.url,
    schema: NOTIFIER_SCHEMA,
    lockRetryMs: 100,
  });
  const q = (sql: string, params: unknown[] = []) => h.db.pool.query(sql, params);
  const fingerprints = async () =>
    (await q("SELECT fingerprint FROM notifier.alerts ORDER BY fingerprint")).rows.map((r) => r.fingerprint);

  async function alert(fp: string, status: string, lastAt: Date, ackedAt: Date | null = null) {
    await q(
      `INSERT INTO notifier.alerts (fingerprint, status, event_type, severity, summary, source, starts_at, ends_at, last_received_at, acked_at)
       VALUES ($1, $2, 'alert', 'warning', 's', 'test', $3, $4, $3, $5)`,
      [fp, status, lastAt, status === "resolved" ? lastAt : null, ackedAt],
    );
  }
  async function history(fp: string, at: Date, n = 1) {
    for (let i = 0; i < n; i++)
      await q("INSERT INTO notifier.alert_history (fingerprint, kind, at) VALUES ($1, 'raised', $2)", [
        fp,
        at,
      ]);
  }
  async function delivery(label: string, status: string, updatedAt: Date) {
    await q(
      `INSERT INTO notifier.deliveries (id, receiver, receiver_type, action, dedup_key, fingerprints, message, status, max_attempts, created_at, updated_at)
       VALUES ($1, $2, 'webhook', 'notify', $2, '{}', '{}', $3, 3, $4, $4)`,
      [randomUUID(), label, status, updatedAt],
    );
  }

  beforeAll(async () => {
    h = await startNotifier({ consumeEvents: false });
    await h.restart({ consumeEvents: false, retention: config() });
  });
  afterAll(async () => h?.close());

  it("deletes in batches what is past its age, keeps firing alerts, recent rows and younger dead letters", async () => {
    await alert("old-resolved", "resolved", daysAgo(20));
    await alert("old-firing", "firing", daysAgo(20));
    await alert("recent-resolved", "resolved", daysAgo(1));
    await alert("old-but-acked-lately", "resolved", daysAgo(20), daysAgo(1));
    await history("old-resolved", daysAgo(20), 5);
    await history("old-firing", daysAgo(20), 2);
    await history("recent-resolved", daysAgo(1));
    for (let i = 0; i < 3; i++) await delivery("delivered-old", "delivered", daysAgo(20));
    await delivery("delivered-recent", "delivered", daysAgo(1));
    await delivery("dead-20d", "dead", daysAgo(20));
    await delivery("dead-40d", "dead", daysAgo(40));
    await delivery("pending-old", "pending", daysAgo(40));
    await q(
      `INSERT INTO notifier.alert_groups (group_key, receiver, route_path, group_labels, group_wait_ms, group_interval_ms, repeat_interval_ms, last_notified_at)
       VALUES ('empty-old', 'r', '', '{}', 0, 0, 0, $1), ('with-member', 'r', '', '{}', 0, 0, 0, $1)`,
      [daysAgo(20)],
    );
    await q(
      "INSERT INTO notifier.slack_pacing (webhook_key, next_allowed_at) VALUES ('idle', $1), ('busy', now())",
      [daysAgo(20)],
    );
    await q(
      "INSERT INTO notifier.alert_group_members (group_key, fingerprint) VALUES ('with-member', 'old-firing')",
    );

    await h.until(async () => h.app.retention?.held());
    const report = await h.app.retention!.runOnce();
    expect(report).toEqual({
      deliveries: 3,
      deadLetters: 1,
      alerts: 1,
      history: 5,
      groups: 1,
      slackPacing: 1,
    });

    expect(await fingerprints()).toEqual(["old-but-acked-lately", "old-firing", "recent-resolved"]);
    const lines = await q(
      "SELECT fingerprint, count(*)::int AS n FROM notifier.alert_history GROUP BY 1 ORDER BY 1",
    );
    expect(lines.rows).toEqual([
      { fingerprint: "old-firing", n: 2 },
      { fingerprint: "recent-resolved", n: 1 },
    ]);
    const left = await q("SELECT receiver FROM notifier.deliveries ORDER BY receiver");
    expect(left.rows.map((r) => r.receiver)).toEqual(["dead-20d", "delivered-recent", "pending-old"]);
    const groups = await q("SELECT group_key FROM notifier.alert_groups ORDER BY 1");
    expect(groups.rows.map((r) => r.group_key)).toEqual(["with-member"]);
    const pacing = await q("SELECT webhook_key FROM notifier.slack_pacing");
    expect(pacing.rows.map((r) => r.webhook_key)).toEqual(["busy"]);

    // Nothing left past its age: a second sweep deletes nothing.
    expect(await h.app.retention!.runOnce()).toEqual({
      deliveries: 0,
      deadLetters: 0,
      alerts: 0,
      history: 0,
      groups: 0,
      slackPacing: 0,
    });
  });

  it("runs on its schedule on one instance only; a standby takes over when the holder stops", async () => {
    const store = createRetentionStore();
    // The app's own job holds the lease: these two stand by.
    const every = { ...config(), cron: "* * * * * *" };
    const a = createRetentionJob({ pool: h.db.pool, store, logger, config: every });
    const b = createRetentionJob({ pool: h.db.pool, store, logger, config: every });
    try {
      await a.start();
      await b.start();
      expect(a.held()).toBe(false);
      expect(b.held()).toBe(false);
      expect(await a.runOnce()).toBeNull();

      await h.app.retention!.stop(); // the holder goes away
      await h.until(async () => a.held() || b.held(), 5_000);
      expect(a.held() && b.held()).toBe(false);

      // The new holder's schedule (every second) deletes a freshly aged row by itself.
      await alert("aged-later", "resolved", daysAgo(11));
      await h.until(async () => !(await fingerprints()).includes("aged-later"), 5_000);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
