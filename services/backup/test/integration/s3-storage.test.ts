import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { newSealingKey, parseSealingKeys } from "@nexus/kit";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createS3Storage } from "../../src/storage/s3-storage.js";
import type { BundleStorage } from "../../src/storage/storage-types.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

const BUCKET = "nexus-backups";
let server: S3rver;
let dir: string;
let storage: BundleStorage;
let h: BackupHarness;
let serverStopped = false;
let s3BackupId: string;
let s3App: Awaited<ReturnType<BackupHarness["build"]>>;

async function sha256Of(stream: Readable): Promise<{ sha: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const c of stream) {
    hash.update(c as Buffer);
    bytes += (c as Buffer).length;
  }
  return { sha: hash.digest("hex"), bytes };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "nexus-s3rver-"));
  // A real S3-compatible server on loopback (s3rver), spoken to with the AWS SDK.
  server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  storage = createS3Storage({
    bucket: BUCKET,
    prefix: "nexus/",
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
  });
  h = await startBackupHarness();
}, 60_000);
afterAll(async () => {
  await storage?.close();
  await h?.close();
  if (!serverStopped) await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("S3-compatible storage", () => {
  it("streams a part larger than one multipart chunk in and out unchanged", async () => {
    const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
    const expected = createHash("sha256");
    for (const c of chunks) expected.update(c);
    await storage.put("bk-test/big.bin", Readable.from(chunks));
    const got = await sha256Of(await storage.get("bk-test/big.bin"));
    expect(got).toEqual({ sha: expected.digest("hex"), bytes: 12 * 1024 * 1024 });

    await storage.put("bk-test/small.txt", Readable.from([Buffer.from("hello")]));
    expect(await storage.list("bk-test/")).toEqual(["bk-test/big.bin", "bk-test/small.txt"]);
    await storage.removePrefix("bk-test/");
    expect(await storage.list("bk-test/")).toEqual([]);
    await expect(storage.get("bk-test/small.txt")).rejects.toMatchObject({ name: "StorageNotFoundError" });
  }, 60_000);

  it("holds an encrypted backup that verifies and plans a restore", async () => {
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "s3-shop" })).status).toBe(201);
    expect(
      (await h.registryCall("PUT", "/v1/namespaces/s3-shop/layers/base", { stored: "in s3" })).status,
    ).toBeLessThan(300);
    const app = await h.build({ storage, keys: parseSealingKeys(newSealingKey("s3key")).keys! });
    s3App = app;
    const started = await h.call(app, "POST", "/v1/backups", {});
    expect(started.status).toBe(202);
    const b = await until(async () => {
      const x = (await h.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
      return x.status !== "running" && !["pending", "running"].includes(x.verification) ? x : undefined;
    });
    expect(b).toMatchObject({
      status: "completed",
      verification: "verified",
      storage: `s3:${BUCKET}/nexus/`,
    });
    const keys = await storage.list(`${b.id}/`);
    expect(keys).toContain(`${b.id}/manifest.json`);
    expect(keys).toContain(`${b.id}/config_registry.revisions.copy.gz.enc`);

    const plan = await h.call(app, "POST", `/v1/backups/${b.id}/restore`, { dryRun: true });
    expect(plan.status).toBe(200);
    expect(plan.body.problems).toEqual([]);
    expect(
      plan.body.tables.find((t: { table: string }) => t.table === "config_registry.namespaces").rowsInBackup,
    ).toBe(1);
    s3BackupId = b.id;
  }, 60_000);

  it("answers 503 naming the storage when it is down, and reports it in the health check", async () => {
    await server.close();
    serverStopped = true;
    const res = await h.call(s3App, "POST", `/v1/backups/${s3BackupId}/restore`, { dryRun: true });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("storage_unavailable");
    expect(res.body.error.message).toContain(`backup storage s3:${BUCKET}/nexus/ did not answer`);
    const ready = await s3App.app.inject({ method: "GET", url: "/readyz" });
    expect(ready.json()).toMatchObject({ status: "degraded", checks: { storage: { status: "down" } } });
  }, 60_000);
});
