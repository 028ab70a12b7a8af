import { fileURLToPath } from "node:url";
import { migrate } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_MIGRATIONS, type BackupHarness, SCHEMAS, startBackupHarness, until } from "./harness.js";

const MIGRATIONS: Record<string, string> = {
  config_registry: fileURLToPath(new URL("../../../config-registry/migrations", import.meta.url)),
  drift_detector: fileURLToPath(new URL("../../../drift-detector/migrations", import.meta.url)),
  notifier: fileURLToPath(new URL("../../../notifier/migrations", import.meta.url)),
};

let h: BackupHarness;

beforeAll(async () => {
  h = await startBackupHarness();
}, 60_000);
afterAll(async () => h?.close());

const revisionsOf = async (ns: string) =>
  (
    await h.pool.query<{ revision: number; content: unknown }>(
      "SELECT revision, content FROM config_registry.revisions WHERE namespace = $1 ORDER BY revision",
      [ns],
    )
  ).rows;

describe("the disaster drill", () => {
  it("brings every service's data back from storage alone after the data and the catalogue are gone", async () => {
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "payments" })).status).toBe(201);
    for (let i = 1; i <= 20; i++)
      expect(
        (await h.registryCall("PUT", "/v1/namespaces/payments/layers/base", { pool: i })).status,
      ).toBeLessThan(300);
    const first = await h.build();
    const started = await h.call(first, "POST", "/v1/backups", {});
    const backup = await until(async () => {
      const b = (await h.call(first, "GET", `/v1/backups/${started.body.id}`)).body;
      return b.verification === "verified" ? b : undefined;
    });
    const atBackup = await revisionsOf("payments");
    // Written after the backup: what this drill loses (the RPO is the time since the last backup).
    for (let i = 21; i <= 23; i++)
      expect(
        (await h.registryCall("PUT", "/v1/namespaces/payments/layers/base", { pool: i })).status,
      ).toBeLessThan(300);

    // The disaster: every service's schema and the backup catalogue are gone.
    const lostAt = Date.now();
    await first.app.close();
    await first.workers.stop();
    for (const schema of [...SCHEMAS, "backup"]) await h.pool.query(`DROP SCHEMA ${schema} CASCADE`);

    // Recovery: the services start (their migrations create empty schemas), the backup service
    // finds the bundle in storage, and the system is restored to it.
    const recoveryStarted = Date.now();
    for (const schema of SCHEMAS)
      await migrate({ databaseUrl: h.registry.db.url, schema, dir: MIGRATIONS[schema] });
    await migrate({ databaseUrl: h.registry.db.url, schema: "backup", dir: BACKUP_MIGRATIONS });
    const second = await h.build();
    const found = (await h.call(second, "GET", "/v1/backups")).body.items;
    expect(found.map((b: { id: string }) => b.id)).toEqual([backup.id]);
    expect(found[0]).toMatchObject({
      status: "completed",
      verification: "pending",
      requestedBy: "found in storage",
    });

    const plan = await h.call(second, "POST", `/v1/backups/${backup.id}/restore`, { dryRun: true });
    expect(plan.body.problems).toEqual([]);
    const restore = await h.call(second, "POST", `/v1/backups/${backup.id}/restore`, { dryRun: false });
    expect(restore.status).toBe(202);
    const done = await until(async () => {
      const r = (await h.call(second, "GET", `/v1/restores/${restore.body.id}`)).body;
      return r.status !== "running" ? r : undefined;
    });
    expect(done.status).toBe("completed");
    const rtoMs = Date.now() - recoveryStarted;
    const rpoMs = lostAt - new Date(backup.snapshotAt).getTime();

    expect(await revisionsOf("payments")).toEqual(atBackup);
    expect(atBackup).toHaveLength(20);
    // The seeds ask for recovery under a minute.
    expect(rtoMs).toBeLessThan(60_000);
    console.info(
      `disaster drill: restored ${done.rows} rows in ${done.tables} tables; RTO ${rtoMs} ms (migrate + find + restore), RPO ${rpoMs} ms (3 revisions written after the backup are lost)`,
    );

    // The restored registry takes writes where the backup left it.
    expect(
      (await h.registryCall("PUT", "/v1/namespaces/payments/layers/base", { pool: 99 })).status,
    ).toBeLessThan(300);
    expect((await revisionsOf("payments")).at(-1)!.revision).toBe(21);
  });
});
