import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type RegistryApp } from "../../src/app.js";
import { type Harness, startRegistry, withAuth } from "./harness.js";

/**
 * A registry instance writes a namespace it committed last from the state it holds (no read).
 * These are the changes that state cannot see, made through a second instance or by deleting and
 * creating the namespace again: each must be read before the next write applies.
 */
describe("writes from a held write state", () => {
  let h: Harness;
  let other: RegistryApp;

  beforeAll(async () => {
    h = await startRegistry();
    other = await buildApp(h.registryDeps);
    await other.app.ready();
  });
  afterAll(async () => {
    await other?.app.close();
    await h?.close();
  });

  async function send(
    app: RegistryApp,
    method: "POST" | "PUT" | "PATCH" | "DELETE",
    url: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await app.app.inject({
      method,
      url,
      headers: withAuth(h, {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      }),
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : undefined };
  }
  const layerOf = (ns: string, layer: string) =>
    h.db.pool.query(
      "SELECT revision, content FROM config_registry.layers WHERE namespace = $1 AND layer = $2",
      [ns, layer],
    );

  it("an instance holding a stale state (it has not heard the other's events) answers from what is stored", async () => {
    // `other` runs no workers: it hears no events, so nothing drops the state it holds.
    expect((await send(other, "POST", "/v1/namespaces", { name: "stale" })).status).toBe(201);
    expect(
      (await send(other, "PUT", "/v1/namespaces/stale/layers/base", { v: 1, keep: 1 })).body.revision,
    ).toBe(1);
    expect(
      (await send(h.registry, "PUT", "/v1/namespaces/stale/layers/base", { v: 2, keep: 1 })).body.revision,
    ).toBe(2);

    // If-Match of the stored revision: accepted, although the held state says revision 1.
    const current = await send(
      other,
      "PATCH",
      "/v1/namespaces/stale/layers/base",
      { p: 1 },
      {
        "content-type": "application/merge-patch+json",
        "if-match": '"2"',
      },
    );
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ revision: 3, previousRevision: 2, changed: true });
    // Patched onto what is stored ({v: 2}), not onto the held {v: 1}.
    expect((await layerOf("stale", "base")).rows).toEqual([
      { revision: 3, content: { v: 2, keep: 1, p: 1 } },
    ]);

    // Stale again; equal to the held head but not to the stored one: a change, not "unchanged".
    expect((await send(h.registry, "PUT", "/v1/namespaces/stale/layers/base", { v: 4 })).body.revision).toBe(
      4,
    );
    const same = await send(other, "PUT", "/v1/namespaces/stale/layers/base", { v: 2, keep: 1, p: 1 });
    expect(same.body).toMatchObject({ revision: 5, changed: true });
    // And an If-Match the held state would accept is refused.
    expect((await send(h.registry, "PUT", "/v1/namespaces/stale/layers/base", { v: 6 })).body.revision).toBe(
      6,
    );
    const old = await send(other, "PUT", "/v1/namespaces/stale/layers/base", { v: 7 }, { "if-match": '"5"' });
    expect(old.status).toBe(409);
    expect((await layerOf("stale", "base")).rows).toEqual([{ revision: 6, content: { v: 6 } }]);
  });

  it("a namespace deleted and created again is read again, although its version is the same", async () => {
    const a = h.registry;
    expect((await send(a, "POST", "/v1/namespaces", { name: "reborn" })).status).toBe(201);
    // Instance a holds reborn at version 1: base {old: 1}, revision 1.
    expect((await send(a, "PUT", "/v1/namespaces/reborn/layers/base", { old: 1 })).body.revision).toBe(1);
    expect((await send(other, "DELETE", "/v1/namespaces/reborn")).status).toBe(204);
    expect((await send(other, "POST", "/v1/namespaces", { name: "reborn" })).status).toBe(201);
    // The new namespace reaches version 1 too, with no base layer.
    expect((await send(other, "PUT", "/v1/namespaces/reborn/layers/staging", { s: 1 })).body.revision).toBe(
      1,
    );

    // If-Match on a base that does not exist (revision 0): the held state says revision 1.
    const stale = await send(
      a,
      "PATCH",
      "/v1/namespaces/reborn/layers/base",
      { n: 1 },
      {
        "content-type": "application/merge-patch+json",
        "if-match": '"1"',
      },
    );
    expect(stale.status).toBe(409);
    const patched = await send(
      a,
      "PATCH",
      "/v1/namespaces/reborn/layers/base",
      { n: 1 },
      {
        "content-type": "application/merge-patch+json",
      },
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ revision: 2, previousRevision: 0 });
    // Patched onto the new namespace's (empty) base, not the old one's {old: 1}.
    expect((await layerOf("reborn", "base")).rows).toEqual([{ revision: 2, content: { n: 1 } }]);
  });

  it("a schema and variables set through another instance apply to the next write of the one holding the state", async () => {
    const a = h.registry;
    expect((await send(a, "POST", "/v1/namespaces", { name: "ruled" })).status).toBe(201);
    expect(
      (await send(a, "PUT", "/v1/namespaces/ruled/layers/base", { port: 1, host: "${env:H}" })).status,
    ).toBe(422);
    expect((await send(a, "PUT", "/v1/namespaces/ruled/layers/base", { port: 1 })).status).toBe(200);

    const schema = { type: "object", properties: { port: { type: "integer", maximum: 100 } } };
    expect((await send(other, "PUT", "/v1/namespaces/ruled/schema", schema)).status).toBe(200);
    const refused = await send(a, "PUT", "/v1/namespaces/ruled/layers/base", { port: 1000 });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("schema_violation");

    expect(
      (await send(other, "PATCH", "/v1/namespaces/ruled", { variables: { H: "db.local" } })).status,
    ).toBe(200);
    const written = await send(a, "PUT", "/v1/namespaces/ruled/layers/base", { port: 2, host: "${env:H}" });
    expect(written.status).toBe(200);
    const resolved = await h.db.pool.query(
      "SELECT body FROM config_registry.resolved_heads WHERE namespace = 'ruled' AND environment = 'production'",
    );
    expect(JSON.parse(resolved.rows[0].body).content).toEqual({ port: 2, host: "db.local" });
  });
});
