import { randomBytes } from "node:crypto";
import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type RegistryApp } from "../../src/app.js";
import type { Keyring } from "../../src/secrets/secret-crypto-fns.js";
import { call, type Harness, REGISTRY_SCHEMA, startRegistry, withAuth } from "./harness.js";

const VALUE = "tamper-me-6b0e41";

/** Another registry instance on the same Postgres/NATS/Redis with its own master keys. */
async function instance(h: Harness, secretKeys: Keyring | null): Promise<RegistryApp> {
  const app = await buildApp({
    logger: createLogger({ service: "config-registry-keys", level: "silent" }),
    pool: h.db.pool,
    redis: h.redis.redis,
    nc: h.nats.nc,
    bus: h.nats.bus,
    auth: { tokenKey: h.tokenKey },
    secretKeys,
    config: {
      databaseUrl: h.db.url,
      schema: REGISTRY_SCHEMA,
      defaultEnvironments: ["development", "staging", "production"],
      cacheTtlSeconds: 60,
      bodyLimit: 1024 * 1024,
      outboxRelay: false,
    },
  });
  await app.app.ready();
  return app;
}

const revealBase = (app: RegistryApp, ns: string) =>
  app.services.layers.get(ns, "base", { revealSecrets: true }).then((l) => l.content);

async function catchError(p: Promise<unknown>): Promise<Error & { code?: string; statusCode?: number }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a failure");
}

describe("secret keys: tampering, moving, rotation", () => {
  const oldKey = randomBytes(32);
  const keyring: Keyring = { keys: new Map([["old", oldKey]]), activeKeyId: "old" };
  let h: Harness;
  const others: RegistryApp[] = [];

  beforeAll(async () => {
    h = await startRegistry({ secretKeys: keyring });
    for (const name of ["alpha", "beta"]) {
      await call(h, "POST", "/v1/namespaces", { name });
      await call(h, "PUT", `/v1/namespaces/${name}/layers/base`, {
        api: { key: { $secret: `${VALUE}-${name}` } },
      });
    }
  });
  afterAll(async () => {
    for (const app of others) await app.app.close();
    await h?.close();
  });

  it("a ciphertext with one byte flipped fails to decrypt with a clear error, and reveals nothing", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "gamma" });
    await call(h, "PUT", "/v1/namespaces/gamma/layers/base", { api: { key: { $secret: VALUE } } });
    const row = await h.db.pool.query<{ content: { api: { key: { $secret: { ct: string } } } } }>(
      "SELECT content FROM layers WHERE namespace = 'gamma' AND layer = 'base'",
    );
    const raw = Buffer.from(row.rows[0]!.content.api.key.$secret.ct, "base64");
    raw[raw.length - 20]! ^= 0x01;
    await h.db.pool.query(
      `UPDATE layers SET content = jsonb_set(content, '{api,key,$secret,ct}', to_jsonb($1::text))
       WHERE namespace = 'gamma' AND layer = 'base'`,
      [raw.toString("base64")],
    );
    const err = await catchError(revealBase(h.registry, "gamma"));
    expect(err.code).toBe("secret_undecryptable");
    expect(err.message).toContain("/api/key");
    expect(err.message).toContain("ciphertext was changed");
    expect(err.message).not.toContain(VALUE);
    // Redacted reads are unaffected.
    expect((await h.registry.services.layers.get("gamma", "base")).content).toEqual({ api: { key: "***" } });
    const http = await call(h, "GET", "/v1/namespaces/gamma/layers/base");
    expect(http.status).toBe(500);
    expect(http.body.error.code).toBe("secret_undecryptable");
    expect(http.raw).not.toContain(VALUE);
  });

  it("a ciphertext copied into another namespace does not decrypt there", async () => {
    await h.db.pool.query(
      `UPDATE layers SET content = (SELECT content FROM layers WHERE namespace = 'alpha' AND layer = 'base')
       WHERE namespace = 'beta' AND layer = 'base'`,
    );
    const err = await catchError(revealBase(h.registry, "beta"));
    expect(err.code).toBe("secret_undecryptable");
    expect(err.message).toContain("encrypted for another namespace");
    // The same through resolution: a write re-resolves beta with alpha's node, and a reveal fails.
    // The write goes through an instance that holds no write state of beta: one that committed
    // beta's last write writes from what it committed, without reading the row again (an edit
    // made in Postgres outside the registry is not noticed between writes; it is overwritten).
    const fresh = await instance(h, keyring);
    others.push(fresh);
    const patched = await fresh.app.inject({
      method: "PATCH",
      url: "/v1/namespaces/beta/layers/base",
      headers: withAuth(h, { "content-type": "application/merge-patch+json" }),
      payload: JSON.stringify({ other: 1 }),
    });
    expect(patched.statusCode).toBe(200);
    const read = await catchError(
      h.registry.services.reads.get("beta", "production", { revealSecrets: true }),
    );
    expect(read.message).toContain("encrypted for another namespace");
    expect(await revealBase(h.registry, "alpha")).toEqual({ api: { key: `${VALUE}-alpha` } });
  });

  it("rotation re-wraps every data key with the active master key; old data stays readable", async () => {
    const newKey = randomBytes(32);
    // During the rotation an instance holds both keys, the new one active.
    const both = await instance(h, {
      keys: new Map([
        ["old", oldKey],
        ["new", newKey],
      ]),
      activeKeyId: "new",
    });
    others.push(both);
    // It reads what the old key wrapped before any re-wrap.
    expect(await revealBase(both, "alpha")).toEqual({ api: { key: `${VALUE}-alpha` } });

    const report = await both.services.secrets.rotate();
    expect(report).toMatchObject({ activeKeyId: "new", alreadyCurrent: 0, failed: [] });
    expect(report.rewrapped).toBe(report.dataKeys);
    expect(report.dataKeys).toBeGreaterThanOrEqual(3);
    const wrapped = await h.db.pool.query<{ master_key_id: string }>(
      "SELECT DISTINCT master_key_id FROM secret_keys",
    );
    expect(wrapped.rows).toEqual([{ master_key_id: "new" }]);

    // Again: nothing to do.
    expect(await both.services.secrets.rotate()).toMatchObject({
      rewrapped: 0,
      alreadyCurrent: report.dataKeys,
    });

    // An instance that only has the new key reads everything, including what was written before.
    const onlyNew = await instance(h, { keys: new Map([["new", newKey]]), activeKeyId: "new" });
    others.push(onlyNew);
    expect(await revealBase(onlyNew, "alpha")).toEqual({ api: { key: `${VALUE}-alpha` } });
    const revealed = JSON.parse(
      (await onlyNew.services.reads.get("alpha", "staging", { revealSecrets: true })).body,
    );
    expect(revealed.content.api.key).toBe(`${VALUE}-alpha`);
    // ...and writes new secrets with the same data key.
    await onlyNew.services.writes.replace(
      "alpha",
      "staging",
      { extra: { $secret: "later" } },
      { author: "t", message: "", source: "api" },
    );
    expect((await onlyNew.services.layers.get("alpha", "staging", { revealSecrets: true })).content).toEqual({
      extra: "later",
    });

    // One that only has the retired key cannot unwrap anything any more, and says which key it needs.
    const onlyOld = await instance(h, keyring);
    others.push(onlyOld);
    const err = await catchError(revealBase(onlyOld, "alpha"));
    expect(err.code).toBe("secret_master_key_missing");
    expect(err.message).toContain('"new"');
  });

  it("the admin API runs the rotation and reports counts", async () => {
    const res = await call(h, "POST", "/v1/admin/secrets/rotate");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ activeKeyId: "old", dataKeys: expect.any(Number) });
    expect(res.body.rewrapped + res.body.alreadyCurrent + res.body.failed.length).toBe(res.body.dataKeys);
  });

  it("without master keys, secrets are refused with 503 and redacted reads still work", async () => {
    const none = await instance(h, null);
    others.push(none);
    const err = await catchError(
      none.services.writes.replace(
        "alpha",
        "development",
        { x: { $secret: "y" } },
        {
          author: "t",
          message: "",
          source: "api",
        },
      ),
    );
    expect(err.code).toBe("secrets_not_configured");
    expect(err.statusCode).toBe(503);
    expect((await none.services.layers.get("alpha", "base")).content).toEqual({ api: { key: "***" } });
  });
});
