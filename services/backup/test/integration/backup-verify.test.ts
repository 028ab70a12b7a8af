import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { newSealingKey, parseSealingKeys } from "@nexus/kit";
import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BackupApp } from "../../src/app.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

const CANARY = `canary-${Math.random().toString(36).slice(2)}-plaintext`;
const VISIBLE = `visible-${Math.random().toString(36).slice(2)}`;

let h: BackupHarness;
let app: BackupApp;

/** Start a backup over the API and wait until it is written and its verification is over. */
async function backupNow(on: BackupApp) {
  const started = await h.call(on, "POST", "/v1/backups", {});
  expect(started.status).toBe(202);
  return until(async () => {
    const b = (await h.call(on, "GET", `/v1/backups/${started.body.id}`)).body;
    return b.status === "failed" ||
      (b.status === "completed" && !["pending", "running"].includes(b.verification))
      ? b
      : undefined;
  });
}

async function allPartsOf(id: string): Promise<{ name: string; bytes: Buffer }[]> {
  const keys = await h.storage.list(`${id}/`);
  return Promise.all(keys.map(async (k) => ({ name: k, bytes: await readFile(join(h.dir, k)) })));
}

beforeAll(async () => {
  h = await startBackupHarness();
  expect((await h.registryCall("POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
  for (let i = 0; i < 5; i++)
    expect(
      (
        await h.registryCall("PUT", "/v1/namespaces/shop/layers/base", {
          db: { pool: i, password: { $secret: CANARY } },
          label: VISIBLE,
        })
      ).status,
    ).toBeLessThan(300);
  app = await h.build();
}, 60_000);
afterAll(async () => h?.close());

describe("a backup", () => {
  it("holds every table of every service schema, is verified by a scratch restore and announced", async () => {
    const verified = collectEvents(
      h.registry.nats.nc,
      `${h.registry.nats.prefix}.backup.verified.>`,
      1,
      20_000,
    );
    const b = await backupNow(app);
    expect(b).toMatchObject({
      status: "completed",
      verification: "verified",
      kind: "full",
      requestedBy: "backup-tester",
    });

    const [event] = await verified;
    expect(event!.event).toMatchObject({
      type: "nexus.backup.verified",
      data: { backupId: b.id, tables: b.tables },
    });

    const revisions = await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions");
    const manifest = JSON.parse(await readFile(join(h.dir, b.id, "manifest.json"), "utf8"));
    const tableNames = manifest.tables.map(
      (t: { schema: string; table: string }) => `${t.schema}.${t.table}`,
    );
    expect(tableNames).toEqual(
      expect.arrayContaining([
        "config_registry.revisions",
        "drift_detector.findings",
        "notifier.alerts",
        "notifier.outbox",
      ]),
    );
    expect(tableNames).not.toContain("config_registry.migrations");
    expect(manifest.tables.find((t: { table: string }) => t.table === "revisions").rows).toBe(
      revisions.rows[0].n,
    );
    expect(manifest.schemas.map((s: { name: string }) => s.name)).toEqual([
      "config_registry",
      "drift_detector",
      "notifier",
    ]);

    // Overdue and failed backups are alert rules over these gauges.
    const metrics = (await app.app.inject({ method: "GET", url: "/metrics" })).body;
    const gauge = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(metrics)?.[1]);
    expect(gauge("nexus_backup_last_verified_timestamp_seconds")).toBeGreaterThanOrEqual(
      Math.floor(new Date(b.snapshotAt).getTime() / 1000),
    );
    expect(gauge("nexus_backup_last_completed_timestamp_seconds")).toBeCloseTo(
      new Date(b.snapshotAt).getTime() / 1000,
      0,
    );

    const drills = (await h.call(app, "GET", `/v1/backups/${b.id}/verifications`)).body.items;
    expect(drills[0]).toMatchObject({ status: "verified" });
    expect(drills[0].tables.every((t: { matches: boolean }) => t.matches)).toBe(true);
  });

  it("keeps no secret in plaintext (the canary scan), and encrypted bundles show nothing at all", async () => {
    const plain = await backupNow(app);
    const parts = await allPartsOf(plain.id);
    const text = parts
      .map((p) => (p.name.endsWith(".gz") ? gunzipSync(p.bytes) : p.bytes).toString("utf8"))
      .join("\n");
    expect(text).toContain(VISIBLE); // the scan reads what is there…
    expect(text).not.toContain(CANARY); // …and the secret is there only sealed

    const keys = parseSealingKeys(newSealingKey("bk1")).keys!;
    const encrypting = await h.build({ keys });
    const sealed = await backupNow(encrypting);
    expect(sealed).toMatchObject({ status: "completed", verification: "verified", encryptionKeyId: "bk1" });
    const sealedParts = await allPartsOf(sealed.id);
    expect(sealedParts.some((p) => p.name.endsWith(".copy.gz.enc"))).toBe(true);
    for (const p of sealedParts) {
      const raw = p.bytes.toString("latin1");
      expect(raw).not.toContain(CANARY);
      if (!p.name.endsWith("manifest.json")) expect(raw).not.toContain(VISIBLE);
    }
  });

  it("finds one changed byte before restoring anything, and says which part", async () => {
    const b = await backupNow(app);
    const manifest = JSON.parse(await readFile(join(h.dir, b.id, "manifest.json"), "utf8"));
    const part = manifest.tables.find((t: { table: string }) => t.table === "revisions").part;
    const file = join(h.dir, b.id, part.name);
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(file, bytes);

    const failed = collectEvents(
      h.registry.nats.nc,
      `${h.registry.nats.prefix}.backup.failed.verify.>`,
      1,
      20_000,
    );
    expect((await h.call(app, "POST", `/v1/backups/${b.id}/verify`)).status).toBe(202);
    const after = await until(async () => {
      const x = (await h.call(app, "GET", `/v1/backups/${b.id}`)).body;
      return x.verification === "failed" ? x : undefined;
    });
    expect(after.verificationError).toContain("does not match its checksum");
    const [event] = await failed;
    expect(event!.event).toMatchObject({
      data: { backupId: b.id, stage: "verify", table: "config_registry.revisions" },
    });

    const before = await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions");
    for (const dryRun of [true, false]) {
      const res = await h.call(app, "POST", `/v1/backups/${b.id}/restore`, { dryRun });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: "backup_corrupt", field: "id" });
      expect(res.body.error.details).toEqual({ table: "config_registry.revisions" });
    }
    const now = await h.pool.query("SELECT count(*)::int AS n FROM config_registry.revisions");
    expect(now.rows[0].n).toBe(before.rows[0].n);
  });

  it("cannot be restored without its key, and says which key it needs", async () => {
    const keys = parseSealingKeys(newSealingKey("bk-keyed")).keys!;
    const keyed = await h.build({ keys });
    const b = await backupNow(keyed);
    expect(b.verification).toBe("verified");

    const keyless = await h.build({ keys: null });
    const res = await h.call(keyless, "POST", `/v1/backups/${b.id}/restore`, { dryRun: false });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("backup_key_missing");
    expect(res.body.error.message).toContain('backup key "bk-keyed"');
    expect(res.body.error.message).toContain("no backup key is configured");

    const otherKey = await h.build({ keys: parseSealingKeys(newSealingKey("bk-other")).keys! });
    const other = await h.call(otherKey, "POST", `/v1/backups/${b.id}/restore`, { dryRun: true });
    expect(other.status).toBe(422);
    expect(other.body.error.message).toContain("not among the configured backup keys");

    // The drill on an instance without the key fails and says so too.
    expect((await h.call(keyless, "POST", `/v1/backups/${b.id}/verify`)).status).toBe(202);
    const after = await until(async () => {
      const x = (await h.call(keyless, "GET", `/v1/backups/${b.id}`)).body;
      return x.verification === "failed" ? x : undefined;
    });
    expect(after.verificationError).toContain("no backup key is configured");
  });

  it("refuses bad input with the failing field, and callers who are not admins", async () => {
    const bad = await h.call(app, "GET", "/v1/backups/not-a-backup");
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toContain("id");
    const missing = await h.call(app, "GET", "/v1/backups/bk-20200101T000000Z-full-000000");
    expect(missing.status).toBe(404);
    const kind = await h.call(app, "POST", "/v1/backups", { kind: "weekly" });
    expect(kind.status).toBe(400);
    expect(kind.body.error.field).toContain("kind");
    const viewer = await h.issuer.token(["viewer"], { subject: "someone", expiresIn: "1h" });
    const denied = await h.call(app, "POST", "/v1/backups", {}, { authorization: `Bearer ${viewer}` });
    expect(denied.status).toBe(403);
  });
});
