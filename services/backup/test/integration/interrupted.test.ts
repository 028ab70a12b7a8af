import { Readable } from "node:stream";
import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

let h: BackupHarness;
let app: BackupApp;

const ended = (id: string) =>
  until(async () => {
    const b = (await h.call(app, "GET", `/v1/backups/${id}`)).body;
    return b.status !== "running" && !["pending", "running"].includes(b.verification) ? b : undefined;
  });

beforeAll(async () => {
  h = await startBackupHarness();
  app = await h.build();
}, 60_000);
afterAll(async () => h?.close());

describe("runs a dead process left behind", () => {
  it("a backup left running is marked interrupted and its objects removed by the next one", async () => {
    // What a process killed in the middle of a backup leaves: the row, and some parts.
    const dead = "bk-20260101T000000Z-full-dead00";
    await h.pool.query(
      "INSERT INTO backups (id, kind, status, trigger, requested_by, storage) VALUES ($1, 'full', 'running', 'api', 'x', 'local')",
      [dead],
    );
    await h.storage.put(`${dead}/config_registry.layers.copy.gz`, Readable.from([Buffer.from("half")]));

    // Announced as failed, like a backup that failed by itself (found by the fault suite's kills).
    const announced = collectEvents<{ data: { backupId: string; stage: string; reason: string } }>(
      h.registry.nats.nc,
      `${h.registry.nats.prefix}.backup.failed.backup.>`,
      1,
      10_000,
    );
    const started = await h.call(app, "POST", "/v1/backups", {});
    expect(started.status).toBe(202);
    expect(await ended(started.body.id)).toMatchObject({ status: "completed", verification: "verified" });
    const [failed] = await announced;
    expect(failed!.event.data).toMatchObject({
      backupId: dead,
      stage: "backup",
      reason: "interrupted: the backup service stopped during the backup",
    });
    expect((await h.call(app, "GET", `/v1/backups/${dead}`)).body).toMatchObject({
      status: "failed",
      error: "interrupted: the backup service stopped during the backup",
    });
    expect(await h.storage.list(`${dead}/`)).toEqual([]);
  });

  it("a drill left running does not block the next one, and is recorded as interrupted", async () => {
    const [b] = (await h.call(app, "GET", "/v1/backups")).body.items;
    await h.pool.query("UPDATE backups SET verification = 'running' WHERE id = $1", [b.id]);
    await h.pool.query("INSERT INTO verifications (backup_id, status) VALUES ($1, 'running')", [b.id]);

    expect((await h.call(app, "POST", `/v1/backups/${b.id}/verify`)).status).toBe(202);
    expect(await ended(b.id)).toMatchObject({ verification: "verified" });
    const drills = (await h.call(app, "GET", `/v1/backups/${b.id}/verifications`)).body.items;
    expect(drills.map((d: { status: string }) => d.status)).toEqual(["verified", "failed", "verified"]);
    expect(drills[1].error).toBe("interrupted: the backup service stopped during the drill");
  });

  it("one backup at a time: a second while one runs is 409", async () => {
    const first = await h.call(app, "POST", "/v1/backups", {});
    const second = await h.call(app, "POST", "/v1/backups", {});
    expect(first.status).toBe(202);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("backup_running");
    await ended(first.body.id);
  });
});
