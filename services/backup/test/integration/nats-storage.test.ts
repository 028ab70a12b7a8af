import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { Objm } from "@nats-io/obj";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNatsStorage } from "../../src/storage/nats-storage.js";
import type { BundleStorage } from "../../src/storage/storage-types.js";
import { type BackupHarness, startBackupHarness, until } from "./harness.js";

let h: BackupHarness;
let storage: BundleStorage;
let bucket: string;

beforeAll(async () => {
  h = await startBackupHarness();
  // A bucket of this test's own on the real JetStream server, removed at the end.
  bucket = `${h.registry.nats.prefix}-backups`;
  storage = createNatsStorage({ nc: h.registry.nats.nc, bucket });
}, 60_000);
afterAll(async () => {
  if (h) {
    const os = await new Objm(h.registry.nats.nc).open(bucket).catch(() => undefined);
    await os?.destroy();
    await h.close();
  }
});

describe("NATS object store storage", () => {
  it("streams objects in and out unchanged, lists and removes them by prefix", async () => {
    const chunks = Array.from({ length: 3 }, () => randomBytes(1024 * 1024 + 7));
    const expected = createHash("sha256");
    for (const c of chunks) expected.update(c);
    await storage.put("bk-x/a.bin", Readable.from(chunks));
    await storage.put("bk-x/b.txt", Readable.from([Buffer.from("b")]));
    await storage.put("bk-y/c.txt", Readable.from([Buffer.from("c")]));

    const got = createHash("sha256");
    let bytes = 0;
    for await (const c of await storage.get("bk-x/a.bin")) {
      got.update(c as Buffer);
      bytes += (c as Buffer).length;
    }
    expect({ sha: got.digest("hex"), bytes }).toEqual({
      sha: expected.digest("hex"),
      bytes: 3 * (1024 * 1024 + 7),
    });
    expect(await storage.list("bk-x/")).toEqual(["bk-x/a.bin", "bk-x/b.txt"]);
    await storage.removePrefix("bk-x/");
    expect(await storage.list("bk-")).toEqual(["bk-y/c.txt"]);
    await expect(storage.get("bk-x/b.txt")).rejects.toMatchObject({ name: "StorageNotFoundError" });
  });

  it("holds a backup that verifies", async () => {
    expect((await h.registryCall("POST", "/v1/namespaces", { name: "nats-shop" })).status).toBe(201);
    const app = await h.build({ storage });
    const started = await h.call(app, "POST", "/v1/backups", {});
    expect(started.status).toBe(202);
    const b = await until(async () => {
      const x = (await h.call(app, "GET", `/v1/backups/${started.body.id}`)).body;
      return x.status !== "running" && !["pending", "running"].includes(x.verification) ? x : undefined;
    });
    expect(b).toMatchObject({ status: "completed", verification: "verified", storage: `nats:${bucket}` });
    expect(await storage.list(`${b.id}/`)).toContain(`${b.id}/config_registry.namespaces.copy.gz`);
  });
});
