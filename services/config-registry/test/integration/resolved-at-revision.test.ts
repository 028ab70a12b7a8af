import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

const PASSWORD = "old-db-password-4e1b";
const R = "/v1/namespaces/past/environments/production/resolved";

/** `?revision=` on the resolved read: the configuration an environment had at a past revision. */
describe("resolved reads at a past revision", () => {
  let h: Harness;
  let viewer: string;
  let reader: string;
  const heads: { revision: number; hash: string; content: Record<string, unknown> }[] = [];
  const read = (query: string, token?: string, headers: Record<string, string> = {}) =>
    call(h, "GET", `${R}${query}`, undefined, {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    });

  beforeAll(async () => {
    h = await startRegistry();
    viewer = await h.tokenFor(["viewer:past"], { name: "viewer" });
    reader = await h.tokenFor(["secret-reader:past"], { name: "reader" });
    await call(h, "POST", "/v1/namespaces", { name: "past" });
    const put = async (layer: string, content: unknown) => {
      const res = await call(h, "PUT", `/v1/namespaces/past/layers/${layer}`, content);
      expect(res.status).toBe(200);
      const now = await read("", viewer);
      heads.push({ revision: now.body.revision, hash: now.body.hash, content: now.body.content });
    };
    await put("base", { app: "shop", db: { host: "base-db", password: { $secret: PASSWORD } } }); // 1
    await put("production", { replicas: 3 }); // 2
    await put("staging", { replicas: 1 }); // 3: production unchanged
    await put("production", { replicas: 8 }); // 4
    await put("base", { app: "shop", db: { host: "base-db-2" } }); // 5: the secret is gone
  });
  afterAll(async () => h?.close());

  it("serves each past revision exactly as it was served then (same hash, revision, content)", async () => {
    for (const then of heads) {
      const res = await read(`?revision=${then.revision}`, viewer);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ revision: then.revision, hash: then.hash, content: then.content });
      expect(res.headers.etag).toBe(`"${then.hash}"`);
      expect(res.headers["nexus-revision"]).toBe(String(then.revision));
    }
    // Revision 3 changed staging only: production as of 3 is production as of 2.
    const at3 = await read("?revision=3", viewer);
    expect(at3.body).toMatchObject({ revision: 2, hash: heads[1]!.hash });
    expect(at3.body.content).toEqual({ app: "shop", db: { host: "base-db", password: "***" }, replicas: 3 });
    // The current one, and a conditional read of a past one.
    expect((await read("?revision=5", viewer)).body.hash).toBe(heads[4]!.hash);
    const unchanged = await read("?revision=2", viewer, { "if-none-match": `"${heads[1]!.hash}"` });
    expect(unchanged.status).toBe(304);
    expect(unchanged.headers["content-length"]).toBeUndefined();
  });

  it("keeps secrets redacted unless the caller may read them, like the current read", async () => {
    const asViewer = await read("?revision=2", viewer);
    expect(asViewer.raw).not.toContain(PASSWORD);
    expect(Object.keys(asViewer.body.secretDigests)).toEqual(["/db/password"]);
    const asReader = await read("?revision=2", reader);
    expect(asReader.body.content.db.password).toBe(PASSWORD);
    expect(asReader.body.hash).toBe(asViewer.body.hash);
  });

  it("refuses a revision the namespace does not have, a bad value, and explain with it", async () => {
    const ahead = await read("?revision=99", viewer);
    expect(ahead.status).toBe(404);
    expect(ahead.body.error).toMatchObject({ code: "revision_not_found", field: "revision" });
    const bad = await read("?revision=-1", viewer);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("revision");
    const both = await read("?revision=1&explain=true", viewer);
    expect(both.status).toBe(400);
    expect(both.body.error.field).toBe("explain");
    expect(
      (await call(h, "GET", "/v1/namespaces/past/environments/nowhere/resolved?revision=1")).status,
    ).toBe(404);
  });
});
