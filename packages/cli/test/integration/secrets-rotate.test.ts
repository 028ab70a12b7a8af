import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus secrets rotate", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment();
    const h = env.registry;
    await h.registry.services.namespaceChanges.create({
      name: "vault-demo",
      description: "",
      owners: [],
      variables: {},
    });
    await h.registry.services.writes.replace(
      "vault-demo",
      "base",
      { db: { password: { $secret: "p4ss" } } },
      { author: "test", message: "", source: "api" },
    );
  });
  afterAll(async () => env?.close());

  it("reports the counts in words and as JSON", async () => {
    const r = await env.run(["secrets", "rotate", "--url", env.url]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Data keys: 1;");
    expect(r.stdout).toContain('already on master key "test-1": 1; failed: 0');
    const json = await env.run(["secrets", "rotate", "--json", "--url", env.url]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      activeKeyId: "test-1",
      dataKeys: 1,
      rewrapped: 0,
      failed: [],
    });
  });

  it("needs an admin token", async () => {
    const viewer = await env.registry.tokenFor(["viewer"], { name: "viewer" });
    const r = await env.run(["secrets", "rotate", "--url", env.url], { env: { NEXUS_TOKEN: viewer } });
    expect(r.code).toBe(5); // access refused (403)
    expect(r.stderr).toMatch(/forbidden|admin|permission|not allowed/i);
  });
});
