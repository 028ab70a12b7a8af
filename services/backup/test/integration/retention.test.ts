import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

let h: BackupHarness;
let app: BackupApp;

async function backupNow() {
  const started = await h.call(app, "POST", "/v1/backups", {});
  expect(started.status).toBe(202);
  return until(async () => {
    const b = (await h.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
    return b.status !== "running" && !["pending", "running"].includes(b.verification) ? b : undefined;
  });
}

beforeAll(async () => {
  h = await startBackupHarness();
  expect((await h.registryCall("POST", "/v1/namespaces", { name: "kept" })).status).toBe(201);
  app = await h.build({
    // The schedule runs under its lease; its crons are far away, the test prunes by hand.
    schedule: {
      backupCron: "0 0 1 1 *",
      verifyCron: "",
      retention: { keepLast: 1, dailyDays: 0, weeklyWeeks: 0 },
    },
  });
}, 60_000);
afterAll(async () => h?.close());

describe("retention", () => {
  it("prunes what the policy no longer keeps, but never the newest verified full backup", async () => {
    await until(async () => app.schedule!.held());
    const oldest = await backupNow();
    const verified = await backupNow();
    const newest = await backupNow();
    expect([oldest, verified, newest].every((b) => b.verification === "verified")).toBe(true);

    // The newest backup's check now fails: it is the newest, but not one a restore can trust.
    const manifest = JSON.parse(await readFile(join(h.dir, newest.id, "manifest.json"), "utf8"));
    const file = join(h.dir, newest.id, manifest.tables[0].part.name);
    const bytes = await readFile(file);
    bytes[0]! ^= 0xff;
    await writeFile(file, bytes);
    expect((await h.call(app, "POST", `/v1/backups/${newest.id}/verify`)).status).toBe(202);
    await until(
      async () => (await h.call(app, "GET", `/v1/backups/${newest.id}`)).body.verification === "failed",
    );

    const pruned = await app.schedule!.prune();
    // keepLast 1 keeps the newest; the newest verified full stays whatever the policy says.
    expect(pruned).toEqual([oldest.id]);
    expect(await h.storage.list(`${oldest.id}/`)).toEqual([]);
    expect((await h.storage.list(`${verified.id}/`)).length).toBeGreaterThan(1);
    const listed = (await h.call(app, "GET", "/v1/backups")).body.items.map((b: { id: string }) => b.id);
    expect(listed).toEqual([newest.id, verified.id]);
    expect((await h.call(app, "GET", `/v1/backups/${oldest.id}`)).body.status).toBe("pruned");
    const restore = await h.call(app, "POST", `/v1/backups/${oldest.id}/restore`, { dryRun: true });
    expect(restore.status).toBe(409);
    expect(restore.body.error.code).toBe("backup_not_usable");
  });
});
