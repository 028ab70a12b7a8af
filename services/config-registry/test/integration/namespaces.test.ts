import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type Harness, startRegistry, withAuth } from "./harness.js";

describe("namespaces", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startRegistry();
  });
  afterAll(async () => h?.close());

  it("creates a namespace with the default environments and shows it", async () => {
    const created = await call(h, "POST", "/v1/namespaces", {
      name: "payments-api",
      description: "Payments",
      owners: ["team-payments"],
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe("/v1/namespaces/payments-api");
    expect(created.body).toMatchObject({
      name: "payments-api",
      environments: ["development", "staging", "production"],
      owners: ["team-payments"],
      headRevision: 0,
    });
    const shown = await call(h, "GET", "/v1/namespaces/payments-api");
    expect(shown.status).toBe(200);
    expect(shown.body.description).toBe("Payments");
  });

  it("refuses a duplicate name with 409 and changes nothing", async () => {
    const again = await call(h, "POST", "/v1/namespaces", { name: "payments-api", description: "other" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "namespace_exists", field: "name" });
    expect((await call(h, "GET", "/v1/namespaces/payments-api")).body.description).toBe("Payments");
  });

  it.each([
    ["upper case", "Payments"],
    ["dot (a subject separator)", "pay.ments"],
    ["wildcard", "pay*"],
    ["too long", "a".repeat(64)],
    ["leading dash", "-pay"],
  ])("refuses an illegal name (%s) with 400 naming the field", async (_label, name) => {
    const res = await call(h, "POST", "/v1/namespaces", { name });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.field).toBe("name");
    expect(res.body.error.requestId).toBeTruthy();
  });

  it("refuses unknown fields and malformed JSON", async () => {
    const unknown = await call(h, "POST", "/v1/namespaces", { name: "x1", colour: "blue" });
    expect(unknown.status).toBe(400);
    const malformed = await h.registry.app.inject({
      method: "POST",
      url: "/v1/namespaces",
      headers: withAuth(h, { "content-type": "application/json" }),
      payload: '{"name": "x2",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe("malformed_body");
    expect((await call(h, "GET", "/v1/namespaces/x2")).status).toBe(404);
  });

  it("404s an unknown namespace with a code", async () => {
    const res = await call(h, "GET", "/v1/namespaces/nope");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("namespace_not_found");
  });

  it("lists namespaces in pages", async () => {
    for (const name of ["list-a", "list-b", "list-c"]) await call(h, "POST", "/v1/namespaces", { name });
    const first = await call(h, "GET", "/v1/namespaces?limit=2");
    expect(first.body.items).toHaveLength(2);
    const second = await call(h, "GET", `/v1/namespaces?limit=2&after=${first.body.next}`);
    const names = [...first.body.items, ...second.body.items].map((n: { name: string }) => n.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it("supports custom environments and refuses removing one that has an overlay", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "custom-envs", environments: ["dev", "prod"] });
    expect((await call(h, "PUT", "/v1/namespaces/custom-envs/layers/prod", { a: 1 })).status).toBe(200);
    expect(
      (await call(h, "PUT", "/v1/namespaces/custom-envs/layers/staging", { a: 1 })).body.error.code,
    ).toBe("environment_not_found");
    const removal = await call(h, "PATCH", "/v1/namespaces/custom-envs", { environments: ["dev"] });
    expect(removal.status).toBe(409);
    expect(removal.body.error.code).toBe("environment_in_use");
    const added = await call(h, "PATCH", "/v1/namespaces/custom-envs", {
      environments: ["dev", "prod", "qa"],
    });
    expect(added.status).toBe(200);
    const qa = await call(h, "GET", "/v1/namespaces/custom-envs/environments/qa/resolved");
    expect(qa.status).toBe(200);
  });

  it("deletes a namespace", async () => {
    await call(h, "POST", "/v1/namespaces", { name: "short-lived" });
    expect((await call(h, "DELETE", "/v1/namespaces/short-lived")).status).toBe(204);
    expect((await call(h, "GET", "/v1/namespaces/short-lived")).status).toBe(404);
  });
});
