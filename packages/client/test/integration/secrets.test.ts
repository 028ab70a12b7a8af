import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_NATS_URL } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectConfig } from "../../src/index.js";
import { type Harness, inject, startListeningRegistry } from "./support.js";

/**
 * Documents with secrets: the hash covers the secrets' digests, so the client checks it with the
 * `secretDigests` the registry sends, whether it sees `"***"` or (as a secret-reader) the values.
 */
describe("documents holding secrets", () => {
  let h: Harness;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    ({ h, url } = await startListeningRegistry());
    dir = await mkdtemp(join(tmpdir(), "nexus-client-secrets-"));
    await inject(h, { method: "POST", url: "/v1/namespaces", payload: { name: "vault" } });
    const put = await inject(h, {
      method: "PUT",
      url: "/v1/namespaces/vault/layers/base",
      payload: { db: { user: "app", password: { $secret: "pa55-w0rd" } } },
      headers: { "content-type": "application/json" },
    });
    expect(put.statusCode).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const connect = (token: string, transport: "http" | "nats", cacheFile: string) =>
    connectConfig({
      namespace: "vault",
      environment: "production",
      service: "vault-user",
      ...(transport === "http" ? { url, token } : {}),
      nats: { servers: TEST_NATS_URL },
      subjectPrefix: h.nats.prefix,
      cacheFile,
    });

  it("runs the redacted document for a viewer and the values for a secret-reader, both hash-checked", async () => {
    const viewer = await connect(await h.tokenFor(["viewer:vault"]), "http", join(dir, "viewer.json"));
    try {
      expect(viewer.get()).toEqual({ db: { user: "app", password: "***" } });
    } finally {
      await viewer.close();
    }
    const readerFile = join(dir, "reader.json");
    const reader = await connect(await h.tokenFor(["secret-reader:vault"]), "http", readerFile);
    try {
      expect(reader.get()).toEqual({ db: { user: "app", password: "pa55-w0rd" } });
    } finally {
      await reader.close();
    }
    // The last-known-good file keeps the digests, so it loads (and checks) on the next start.
    const saved = JSON.parse(await readFile(readerFile, "utf8"));
    expect(Object.keys(saved.secretDigests)).toEqual(["/db/password"]);
  });

  it("reads the redacted document over NATS, with its digests", async () => {
    const cfg = await connect("", "nats", join(dir, "nats.json"));
    try {
      expect(cfg.get()).toEqual({ db: { user: "app", password: "***" } });
    } finally {
      await cfg.close();
    }
  });
});
