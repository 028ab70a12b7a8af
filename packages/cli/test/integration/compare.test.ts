import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus compare", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment({ tokenOwner: "ann" });
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
    for (const [layer, doc] of [
      ["base", "database:\n  host: db\n  pool: 10\nlog_level: info\n"],
      ["production", "database:\n  pool: 20\nnew: [1]\n"],
      ["staging", "database:\n  pool: 30\nlog_level: debug\n"],
    ] as const) {
      expect((await env.run(["set", "shop", layer, "-f", "-"], { stdin: doc })).code).toBe(0);
    }
  });
  afterAll(async () => env?.close());

  it("shows each difference with both values and the layer and revision each comes from", async () => {
    const r = await env.run(["compare", "shop", "staging", "production"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("shop: staging (revision 3) → production (revision 2)");
    expect(lines.slice(1).sort()).toEqual([
      "  + /new  [1] (production r2)",
      "  ~ /database/pool  30 (staging r3) → 20 (production r2)",
      '  ~ /log_level  "debug" (staging r3) → "info" (base r1)',
    ]);
    const json = JSON.parse((await env.run(["compare", "shop", "staging", "production", "--json"])).stdout);
    expect(json.changes).toContainEqual(
      expect.objectContaining({ op: "replace", path: "/log_level", from: "debug", to: "info" }),
    );
  });

  it("refuses a bad environment name as a usage error, an unknown one as not found", async () => {
    expect((await env.run(["compare", "shop", "staging", "Nope"])).code).toBe(2);
    expect((await env.run(["compare", "shop", "staging", "qa"])).code).toBe(1);
  });
});
