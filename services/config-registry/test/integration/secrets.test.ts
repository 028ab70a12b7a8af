import { ConfigSetReply, configSetSubject } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

const PASSWORD = "hunter2-db-password-9f3a";
const NEW_PASSWORD = "correct-horse-battery-7c1d";

describe("secrets: write, read, hash, diff", () => {
  let h: Harness;
  let viewer: string;
  let reader: string;
  const resolved = (token?: string, query = "") =>
    call(h, "GET", `/v1/namespaces/payments/environments/production/resolved${query}`, undefined, {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });

  beforeAll(async () => {
    h = await startRegistry();
    viewer = await h.tokenFor(["viewer:payments"], { name: "viewer" });
    reader = await h.tokenFor(["secret-reader:payments"], { name: "reader" });
    await call(h, "POST", "/v1/namespaces", { name: "payments" });
  });
  afterAll(async () => h?.close());

  it("stores a secret encrypted, hashed by digest, and serves it redacted unless revealed", async () => {
    const write = await call(h, "PUT", "/v1/namespaces/payments/layers/base", {
      db: { host: "db.internal", password: { $secret: PASSWORD } },
    });
    expect(write.status).toBe(200);
    expect(write.raw).not.toContain(PASSWORD);

    const stored = await h.db.pool.query<{ content: string }>(
      "SELECT content::text FROM layers WHERE namespace = 'payments' AND layer = 'base'",
    );
    expect(stored.rows[0]!.content).not.toContain(PASSWORD);
    expect(stored.rows[0]!.content).toMatch(
      /"\$secret": \{"v": 1, "ct": "[A-Za-z0-9+/=]+", "key": \d+, "digest": "[0-9a-f]{64}"\}/,
    );

    // Service layer: redacted by default, plaintext with revealSecrets.
    const { reads, layers } = h.registry.services;
    const redacted = JSON.parse((await reads.get("payments", "production")).body);
    expect(redacted.content.db).toEqual({ host: "db.internal", password: "***" });
    expect(Object.keys(redacted.secretDigests)).toEqual(["/db/password"]);
    const revealed = JSON.parse((await reads.get("payments", "production", { revealSecrets: true })).body);
    expect(revealed.content.db.password).toBe(PASSWORD);
    expect(revealed.hash).toBe(redacted.hash);
    expect((await layers.get("payments", "base")).content).toEqual({
      db: { host: "db.internal", password: "***" },
    });
    expect((await layers.get("payments", "base", { revealSecrets: true })).content).toEqual({
      db: { host: "db.internal", password: PASSWORD },
    });
    // Another namespace's permission does not reveal this one's secrets.
    const elsewhere = await reads.get("payments", "production", { revealSecrets: (ns) => ns === "other" });
    expect(elsewhere.body).not.toContain(PASSWORD);
  });

  it("over HTTP: a viewer gets ***, a secret-reader the value, with the same ETag", async () => {
    const asViewer = await resolved(viewer);
    expect(asViewer.status).toBe(200);
    expect(asViewer.raw).not.toContain(PASSWORD);
    expect(asViewer.body.content.db.password).toBe("***");
    const asReader = await resolved(reader);
    expect(asReader.body.content.db.password).toBe(PASSWORD);
    expect(asReader.headers.etag).toBe(asViewer.headers.etag);
    const explained = await resolved(viewer, "?explain=true");
    expect(explained.raw).not.toContain(PASSWORD);
    expect(explained.body.explain["/db/password"].value).toBe("***");
    const explainedForReader = await resolved(reader, "?explain=true");
    expect(explainedForReader.body.explain["/db/password"].value).toBe(PASSWORD);
    const layer = await call(h, "GET", "/v1/namespaces/payments/layers/base", undefined, {
      authorization: `Bearer ${viewer}`,
    });
    expect(layer.body.content.db.password).toBe("***");
  });

  it("over HTTP: an answer that reveals a secret is no-store, one that hides it stays revalidatable", async () => {
    const asViewer = await resolved(viewer);
    expect(asViewer.headers["cache-control"]).toBe("no-cache");
    const asReader = await resolved(reader);
    expect(asReader.body.content.db.password).toBe(PASSWORD);
    expect(asReader.headers["cache-control"]).toBe("no-store");
    const explained = await resolved(reader, "?explain=true");
    expect(explained.raw).toContain(PASSWORD);
    expect(explained.headers["cache-control"]).toBe("no-store");
    const layer = await call(h, "GET", "/v1/namespaces/payments/layers/base", undefined, {
      authorization: `Bearer ${reader}`,
    });
    expect(layer.body.content.db.password).toBe(PASSWORD);
    expect(layer.headers["cache-control"]).toBe("no-store");
  });

  it("re-writing the same secret value is unchanged; a new value is a new revision and hash", async () => {
    const before = await call(h, "GET", "/v1/namespaces/payments/layers/base");
    const same = await call(h, "PUT", "/v1/namespaces/payments/layers/base", {
      db: { host: "db.internal", password: { $secret: PASSWORD } },
    });
    expect(same.body).toMatchObject({
      changed: false,
      revision: before.body.revision,
      hash: before.body.hash,
    });

    const changed = await call(h, "PUT", "/v1/namespaces/payments/layers/base", {
      db: { host: "db.internal", password: { $secret: NEW_PASSWORD } },
    });
    expect(changed.body.changed).toBe(true);
    expect(changed.body.hash).not.toBe(before.body.hash);

    const diff = await call(
      h,
      "GET",
      `/v1/namespaces/payments/layers/base/diff?from=${before.body.revision}&to=${changed.body.revision}`,
    );
    expect(diff.body.operations).toEqual([{ op: "replace", path: "/db/password", value: "***" }]);
    const rev = await call(
      h,
      "GET",
      `/v1/namespaces/payments/layers/base/revisions/${changed.body.revision}`,
      undefined,
      {
        authorization: `Bearer ${viewer}`,
      },
    );
    expect(rev.body.diff).toEqual([{ op: "replace", path: "/db/password", value: "***" }]);
    expect(rev.body.content.db.password).toBe("***");
    const revForReader = await h.registry.services.revisions.get("payments", "base", changed.body.revision, {
      revealSecrets: true,
    });
    expect(revForReader.content).toEqual({ db: { host: "db.internal", password: NEW_PASSWORD } });
  });

  it("a PATCH keeps the secrets it does not touch; a rollback brings the old value back", async () => {
    const patched = await call(
      h,
      "PATCH",
      "/v1/namespaces/payments/layers/base",
      { db: { pool: 5 } },
      { "content-type": "application/merge-patch+json" },
    );
    expect(patched.status).toBe(200);
    const head = await h.registry.services.layers.get("payments", "base", { revealSecrets: true });
    expect(head.content).toEqual({ db: { host: "db.internal", password: NEW_PASSWORD, pool: 5 } });

    const history = await call(h, "GET", "/v1/namespaces/payments/layers/base/revisions");
    const first = history.body.items.at(-1).revision;
    const rolled = await call(h, "POST", "/v1/namespaces/payments/layers/base/rollback", { revision: first });
    expect(rolled.status).toBe(200);
    const after = await h.registry.services.layers.get("payments", "base", { revealSecrets: true });
    expect(after.content).toEqual({ db: { host: "db.internal", password: PASSWORD } });
  });

  it("refuses secret-shaped values it did not seal, and secrets over NATS", async () => {
    const forged = await call(h, "PUT", "/v1/namespaces/payments/layers/staging", {
      token: { $secret: { v: 1, key: 1, ct: "AAAA", digest: "00" } },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatchObject({ code: "secret_invalid", field: "/token" });
    // A layer read back with its "***" and written again would replace the secret with "***".
    const echoed = await call(h, "GET", "/v1/namespaces/payments/layers/base", undefined, {
      authorization: `Bearer ${viewer}`,
    });
    const putBack = await call(h, "PUT", "/v1/namespaces/payments/layers/base", echoed.body.content);
    expect(putBack.status).toBe(422);
    expect(putBack.body.error).toMatchObject({ code: "secret_placeholder", field: "/db/password" });
    // A PATCH cannot change what a stored secret claims (its digest) either.
    const forgedDigest = await call(
      h,
      "PATCH",
      "/v1/namespaces/payments/layers/base",
      { db: { password: { $secret: { digest: "0".repeat(64) } } } },
      { "content-type": "application/merge-patch+json" },
    );
    expect(forgedDigest.body.error).toMatchObject({ code: "secret_invalid", field: "/db/password" });
    const extra = await call(h, "PUT", "/v1/namespaces/payments/layers/staging", {
      token: { $secret: "x", note: "y" },
    });
    expect(extra.body.error).toMatchObject({ code: "secret_invalid", field: "/token" });

    const reply = await h.nats.bus.requestCommand(
      configSetSubject({ layer: "staging", namespace: "payments" }),
      {
        schemaVersion: 1,
        namespace: "payments",
        layer: "staging",
        content: { token: { $secret: "over-the-bus" } },
        author: "svc",
      },
      ConfigSetReply,
    );
    expect(reply).toMatchObject({ ok: false, error: { code: "secret_over_nats" } });
  });

  it("schema violations on a secret never quote it", async () => {
    const schema = await call(h, "PUT", "/v1/namespaces/payments/schema", {
      type: "object",
      properties: { db: { type: "object", properties: { password: { type: "string", minLength: 8 } } } },
    });
    expect(schema.status).toBe(200);
    const short = await call(h, "PUT", "/v1/namespaces/payments/layers/production", {
      db: { password: { $secret: "short" } },
    });
    expect(short.status).toBe(422);
    expect(short.body.error.code).toBe("schema_violation");
    expect(short.body.error.field).toBe("/db/password");
    expect(short.raw).toContain("not shown");
    await call(h, "DELETE", "/v1/namespaces/payments/schema");
  });
});
