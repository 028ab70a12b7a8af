import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

describe("nexus watch", () => {
  let env: CliEnvironment;
  beforeAll(async () => {
    env = await startCliEnvironment();
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
    const set = await env.run(["set", "shop", "production", "-f", "-"], { stdin: "pool: 10\nlevel: info\n" });
    expect(set.code).toBe(0);
  });
  afterAll(async () => env?.close());

  it("prints the current revision, then each change made while it runs", async () => {
    const watch = env.start(["watch", "shop", "production", "--interval", "0.1"]);
    const first = await watch.waitForStdout((lines) => lines.find((l) => l.includes("at revision")));
    expect(first).toMatch(/^\[\d\d:\d\d:\d\d\] shop\/production at revision 1 \(sha256 [0-9a-f]{12}\)$/);

    // A change by someone else (straight through the API), while the watch runs.
    const put = await call(env.registry, "PUT", "/v1/namespaces/shop/layers/production", {
      pool: 20,
      level: "info",
    });
    expect(put.status).toBe(200);
    const change = await watch.waitForStdout((lines) => {
      const i = lines.findIndex((l) => l.includes("revision 2 (was 1)"));
      return i >= 0 && lines[i + 1] !== undefined ? lines.slice(i, i + 2) : undefined;
    });
    expect(change[1]).toBe("  ~ /pool: 10 → 20");

    // And one through the CLI.
    expect((await env.run(["set", "shop", "base", "-f", "-"], { stdin: "region: eu\n" })).code).toBe(0);
    const third = await watch.waitForStdout((lines) => {
      const i = lines.findIndex((l) => l.includes("revision 3 (was 2)"));
      return i >= 0 && lines[i + 1] !== undefined ? lines[i + 1] : undefined;
    });
    expect(third).toBe('  + /region: "eu"');

    const done = await watch.stop("SIGTERM");
    expect(done.code).toBe(0);
    expect(done.stderr).toContain("Ctrl-C to stop");
  });

  it("--json prints one snapshot line, then one change line per change", async () => {
    const watch = env.start(["watch", "shop", "production", "--interval", "0.1", "--json"]);
    const snapshot = await watch.waitForStdout((lines) => lines[0]);
    expect(JSON.parse(snapshot)).toMatchObject({
      type: "snapshot",
      namespace: "shop",
      environment: "production",
      revision: 3,
      content: { pool: 20, level: "info", region: "eu" },
    });

    await call(env.registry, "PUT", "/v1/namespaces/shop/layers/production", { pool: 30 });
    const changed = await watch.waitForStdout((lines) => lines[1]);
    const event = JSON.parse(changed);
    expect(event).toMatchObject({
      type: "change",
      revision: 4,
      previousRevision: 3,
      content: { pool: 30, region: "eu" },
    });
    expect(event.hash).not.toBe(JSON.parse(snapshot).hash);
    expect(event.previousHash).toBe(JSON.parse(snapshot).hash);
    expect(event.changes).toEqual(
      expect.arrayContaining([
        { op: "replace", path: "/pool", before: 20, after: 30 },
        { op: "remove", path: "/level", before: "info" },
      ]),
    );

    const done = await watch.stop("SIGINT");
    expect(done.code).toBe(0);
    expect(done.stdout.trimEnd().split("\n")).toHaveLength(2);
  });

  it("ends with exit 1 when there is nothing to watch", async () => {
    const r = await env.run(["watch", "shop", "qa", "--interval", "0.1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("code environment_not_found");
  });
});
