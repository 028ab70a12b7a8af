import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry } from "./harness.js";

const L = "/v1/namespaces/hist/layers/base";

describe("history, diff, rollback and schema", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "hist" });
    await call(h, "PUT", L, { a: 1, b: { c: 2 } }); // rev 1
    await call(h, "PUT", "/v1/namespaces/hist/layers/production", { p: true }); // rev 2
    await call(h, "PUT", L, { a: 2, b: { c: 2, d: 3 } }); // rev 3
  });
  afterAll(async () => h?.close());

  it("lists a layer's history newest first and pages with before", async () => {
    const all = await call(h, "GET", `${L}/revisions`);
    expect(all.body.items.map((r: { revision: number }) => r.revision)).toEqual([3, 1]);
    const older = await call(h, "GET", `${L}/revisions?before=3`);
    expect(older.body.items.map((r: { revision: number }) => r.revision)).toEqual([1]);
  });

  it("shows one revision and 404s a revision of another layer or that does not exist", async () => {
    expect((await call(h, "GET", `${L}/revisions/3`)).body.content).toEqual({ a: 2, b: { c: 2, d: 3 } });
    const other = await call(h, "GET", `${L}/revisions/2`);
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe("revision_not_found");
    expect((await call(h, "GET", `${L}/revisions/999`)).status).toBe(404);
    const bad = await call(h, "GET", `${L}/revisions/abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe("n");
  });

  it("diffs any two revisions as RFC 6902", async () => {
    const res = await call(h, "GET", `${L}/diff?from=1&to=3`);
    expect(res.body.operations).toEqual(
      expect.arrayContaining([
        { op: "replace", path: "/a", value: 2 },
        { op: "add", path: "/b/d", value: 3 },
      ]),
    );
    const fromEmpty = await call(h, "GET", `${L}/diff?from=0&to=1`);
    expect(fromEmpty.body.operations).toEqual([
      { op: "add", path: "/a", value: 1 },
      { op: "add", path: "/b", value: { c: 2 } },
    ]);
    expect((await call(h, "GET", `${L}/diff?from=1&to=77`)).body.error.field).toBe("to");
    expect((await call(h, "GET", `${L}/diff?from=x&to=1`)).status).toBe(400);
  });

  it("rolls back by writing a new revision with the old content, source rollback:<n>", async () => {
    const res = await call(
      h,
      "POST",
      `${L}/rollback`,
      { revision: 1 },
      { authorization: `Bearer ${await h.tokenFor(["admin"], { owner: "bob" })}` },
    );
    expect(res.status).toBe(200);
    expect(res.body.revision).toBe(4);
    const rev = await call(h, "GET", `${L}/revisions/4`);
    expect(rev.body).toMatchObject({ source: "rollback:1", author: "bob", content: { a: 1, b: { c: 2 } } });
    expect((await call(h, "GET", `${L}/revisions/1`)).body.hash).toBe(rev.body.hash);
    const missing = await call(h, "POST", `${L}/rollback`, { revision: 99 });
    expect(missing.status).toBe(404);
    expect(missing.body.error.field).toBe("revision");
  });

  it("refuses a write that breaks the JSON Schema with every failing pointer, storing nothing", async () => {
    const schema = {
      type: "object",
      required: ["a"],
      properties: {
        a: { type: "integer", minimum: 1 },
        b: { type: "object", properties: { c: { type: "integer" } } },
      },
    };
    expect((await call(h, "PUT", "/v1/namespaces/hist/schema", schema)).status).toBe(200);
    const before = (await call(h, "GET", "/v1/namespaces/hist")).body.headRevision;
    const res = await call(h, "PUT", L, { a: 0, b: { c: "two" } });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("schema_violation");
    const pointers = res.body.error.details.violations.map((v: { pointer: string }) => v.pointer);
    expect(pointers).toEqual(expect.arrayContaining(["/a", "/b/c"]));
    expect((await call(h, "GET", "/v1/namespaces/hist")).body.headRevision).toBe(before);
    const missing = await call(h, "PUT", L, { b: {} });
    expect(missing.body.error.details.violations.map((v: { pointer: string }) => v.pointer)).toContain("/a");
  });

  it("refuses an invalid schema and a schema the current config breaks", async () => {
    const invalid = await call(h, "PUT", "/v1/namespaces/hist/schema", { type: "no-such-type" });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.code).toBe("schema_invalid");
    const broken = await call(h, "PUT", "/v1/namespaces/hist/schema", { type: "object", required: ["zzz"] });
    expect(broken.status).toBe(422);
    expect(broken.body.error.code).toBe("schema_violation");
    expect((await call(h, "GET", "/v1/namespaces/hist/schema")).body.schema.required).toEqual(["a"]);
  });

  it("removes a schema", async () => {
    expect((await call(h, "DELETE", "/v1/namespaces/hist/schema")).status).toBe(204);
    expect((await call(h, "GET", "/v1/namespaces/hist/schema")).body.error.code).toBe("schema_not_found");
  });
});
