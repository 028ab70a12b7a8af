import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

let h: BackupHarness;
let app: BackupApp;

async function backupNow(kind: "full" | "incremental") {
  const started = await h.call(app, "POST", "/v1/backups", { kind });
  expect(started.status).toBe(202);
  return until(async () => {
    const b = (await h.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
    return b.status !== "running" && !["pending", "running"].includes(b.verification) ? b : undefined;
  });
}

async function write(ns: string, times: number) {
  for (let i = 0; i < times; i++)
    expect(
      (await h.registryCall("PUT", `/v1/namespaces/${ns}/layers/base`, { n: Math.random() })).status,
    ).toBeLessThan(300);
}

const history = async () =>
  (
    await h.pool.query(
      "SELECT namespace, revision, hash FROM config_registry.revisions ORDER BY namespace, revision",
    )
  ).rows;

const revisionsPart = async (id: string) => {
  const manifest = JSON.parse(await readFile(join(h.dir, id, "manifest.json"), "utf8"));
  return manifest.tables.find((t: { table: string }) => t.table === "revisions");
};

beforeAll(async () => {
  h = await startBackupHarness();
  for (const ns of ["a", "b", "c"])
    expect((await h.registryCall("POST", "/v1/namespaces", { name: ns })).status).toBe(201);
  app = await h.build();
}, 60_000);
afterAll(async () => h?.close());

describe("incremental backups", () => {
  it("refuses an incremental with nothing to build on", async () => {
    const res = await h.call(app, "POST", "/v1/backups", { kind: "incremental" });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "no_parent_backup", field: "kind" });
  });

  it("store only the revisions since the previous backup, verify, and restore through their chain", async () => {
    await write("a", 5);
    await write("b", 3);
    await write("c", 2);
    const full = await backupNow("full");
    expect(full).toMatchObject({ status: "completed", verification: "verified", parentId: null });

    // Since the full backup: two revisions of a, c deleted and re-created (numbered from 1 again), d new.
    await write("a", 2);
    expect((await h.registryCall("DELETE", "/v1/namespaces/c")).status).toBe(204);
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "c" })).status).toBe(201);
    await write("c", 1);
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "d" })).status).toBe(201);
    await write("d", 1);
    const first = await backupNow("incremental");
    expect(first).toMatchObject({ kind: "incremental", parentId: full.id, verification: "verified" });
    const firstPart = await revisionsPart(first.id);
    expect(firstPart.delta).toEqual({ rows: 4, resets: ["c"] });
    expect(firstPart.rows).toBe(5 + 2 + 3 + 1 + 1);

    await write("b", 1);
    const second = await backupNow("incremental");
    expect(second).toMatchObject({ parentId: first.id, verification: "verified" });
    expect((await revisionsPart(second.id)).delta).toEqual({ rows: 1, resets: [] });
    const atSecond = await history();

    await write("a", 3); // after the last backup: lost by the restore
    const plan = await h.call(app, "POST", `/v1/backups/${second.id}/restore`, { dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.tables.find((t: { table: string }) => t.table === "config_registry.revisions")).toEqual({
      table: "config_registry.revisions",
      rowsNow: atSecond.length + 3,
      rowsInBackup: atSecond.length,
    });
    const restore = await h.call(app, "POST", `/v1/backups/${second.id}/restore`, { dryRun: false });
    expect(restore.status).toBe(202);
    const done = await until(async () => {
      const r = (await h.call(app, "GET", `/v1/restores/${restore.body.id}`)).body;
      return r.status !== "running" ? r : undefined;
    });
    expect(done).toMatchObject({ status: "completed" });
    expect(await history()).toEqual(atSecond);
  });

  it("finds a corrupt part of a parent before restoring an incremental", async () => {
    const [newest] = (await h.call(app, "GET", "/v1/backups")).body.items;
    expect(newest.kind).toBe("incremental");
    const full = (await h.call(app, "GET", "/v1/backups")).body.items.find(
      (b: { kind: string }) => b.kind === "full",
    );
    const part = (await revisionsPart(full.id)).part;
    const file = join(h.dir, full.id, part.name);
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x80;
    await writeFile(file, bytes);
    const res = await h.call(app, "POST", `/v1/backups/${newest.id}/restore`, { dryRun: true });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("backup_corrupt");
    expect(res.body.error.message).toContain(`of ${full.id} does not match its checksum`);
  });
});
