import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../../backup/src/app.js";
import { type BackupHarness, startBackupHarness, until } from "../../../backup/test/integration/harness.js";
import { createHttpJsonClient } from "../../src/clients/http-json.js";
import { createBackupDrill } from "../../src/jobs/job-work.js";

/**
 * A backup drill against the real backup service over HTTP: its routes are admin-only, so the
 * orchestrator's viewer token is refused and the drill needs its admin ORCHESTRATOR_BACKUP_TOKEN.
 */
describe("backup drill against the backup service", () => {
  let h: BackupHarness;
  let app: BackupApp;
  let url: string;

  beforeAll(async () => {
    h = await startBackupHarness();
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    app = await h.build();
    await app.app.listen({ host: "127.0.0.1", port: 0 });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => h?.close());

  const drill = (token: string) =>
    createBackupDrill({
      backup: createHttpJsonClient({ name: "backup service", baseUrl: url, token, timeoutMs: 10_000 }),
      pollMs: 100,
    })({ name: "drill", kind: "backup-drill", timeoutSeconds: 60 });

  it("with no completed backup it says so; a viewer token is refused; an admin token restores and compares the newest", async () => {
    const admin = h.adminToken;
    const none = await drill(admin);
    expect(none).toMatchObject({
      ok: false,
      summary: "the backup service has no completed backup to restore",
    });

    const started = await h.call(app, "POST", "/v1/backups", {});
    expect(started.status).toBe(202);
    const id = started.body.id as string;
    await until(async () => {
      const b = (await h.call(app, "GET", `/v1/backups/${id}`)).body;
      return b.status === "completed" && b.verification === "verified" ? b : undefined;
    });

    const viewer = await h.issuer.token(["viewer"], { subject: "orchestrator", expiresIn: "1h" });
    await expect(drill(viewer)).rejects.toThrow(/403|admin/);

    const done = await drill(admin);
    expect(done.ok).toBe(true);
    expect(done.summary).toMatch(new RegExp(`^backup ${id} restored into a scratch schema and matched`));
    const drills = (await h.call(app, "GET", `/v1/backups/${id}/verifications`)).body.items;
    expect(drills.length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
