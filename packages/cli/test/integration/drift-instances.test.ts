import type { AddressInfo } from "node:net";
import {
  createTestDatabase,
  startTestIssuer,
  type TestDatabase,
  type TestIssuer,
} from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../../services/config-registry/test/integration/harness.js";
import {
  DETECTOR_MIGRATIONS,
  DETECTOR_SCHEMA,
  type Detector,
  eventually,
  heartbeat,
  startDetector,
} from "../../../../services/drift-detector/test/integration/harness.js";
import { type CliEnvironment, startCliEnvironment } from "./cli-harness.js";

/** `nexus instances` and `nexus drift` against a real drift-detector that accepts registry API tokens. */
describe("nexus instances / drift", () => {
  let env: CliEnvironment;
  let db: TestDatabase;
  let issuer: TestIssuer;
  let detector: Detector;
  let driftUrl: string;
  let head: { revision: number; hash: string };

  beforeAll(async () => {
    env = await startCliEnvironment();
    [db, issuer] = await Promise.all([
      createTestDatabase({ schema: DETECTOR_SCHEMA, migrationsDir: DETECTOR_MIGRATIONS }),
      startTestIssuer(),
    ]);
    detector = await startDetector(
      db,
      env.registry.nats.prefix,
      issuer,
      { staleGraceMs: 0 },
      {
        bus: env.registry.nats.bus,
        key: env.registry.tokenKey,
      },
    );
    await detector.app.app.listen({ port: 0, host: "127.0.0.1" });
    driftUrl = `http://127.0.0.1:${(detector.app.app.server.address() as AddressInfo).port}`;
    expect((await env.run(["login", env.url])).code).toBe(0);
    expect((await env.run(["ns", "create", "shop"])).code).toBe(0);
    const old = (await call(env.registry, "PUT", "/v1/namespaces/shop/layers/production", { pool: 1 })).body;
    const oldHash = (await call(env.registry, "GET", "/v1/namespaces/shop/environments/production/resolved"))
      .body.hash;
    await call(env.registry, "PUT", "/v1/namespaces/shop/layers/production", { pool: 2 });
    head = (await call(env.registry, "GET", "/v1/namespaces/shop/environments/production/resolved")).body;
    await env.registry.nats.bus.publish(
      "nexus.instance.heartbeat",
      heartbeat({ instanceId: "web-1", ...head }),
    );
    await env.registry.nats.bus.publish(
      "nexus.instance.heartbeat",
      heartbeat({ instanceId: "web-2", revision: old.revision, hash: oldHash }),
    );
    await eventually(
      async () =>
        (await db.pool.query("SELECT 1 FROM drift_detector.findings WHERE kind = 'stale'")).rowCount,
      (n) => n === 1,
    );
  });
  afterAll(async () => {
    await detector?.stop();
    await env?.close();
    await issuer?.close();
    await db?.drop();
  });

  it("instances: each instance with its revision and how far behind it is", async () => {
    const r = await env.run(["instances", "shop", "production"], { env: { NEXUS_DRIFT_URL: driftUrl } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`shop/production should run revision ${head.revision}`);
    const lines = r.stdout.split("\n");
    expect(lines.find((l) => l.startsWith("web-1"))).toMatch(/current/);
    expect(lines.find((l) => l.startsWith("web-2"))).toMatch(/1 rev, \d+ s/);
    const json = await env.run(["instances", "shop", "production", "--json", "--drift-url", driftUrl]);
    expect(JSON.parse(json.stdout).items.map((i: { instanceId: string }) => i.instanceId)).toEqual([
      "web-1",
      "web-2",
    ]);
  });

  it("drift: lists the open findings in plain words", async () => {
    const r = await env.run(["drift", "shop"], { env: { NEXUS_DRIFT_URL: driftUrl } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND\s+SEVERITY/);
    expect(r.stdout).toContain("stale");
    expect(r.stdout).toContain("instance web-2 of shop-api still runs revision");
    const none = await env.run(["drift", "shop", "--kind", "policy"], { env: { NEXUS_DRIFT_URL: driftUrl } });
    expect(none.stdout).toBe("no drift findings\n");
  });

  it("without a detector URL it is a usage error naming the settings", async () => {
    const r = await env.run(["instances", "shop", "production"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("no drift-detector configured");
    expect(r.stderr).toContain("NEXUS_DRIFT_URL");
    const bad = await env.run(["drift"], { env: { NEXUS_DRIFT_URL: "ftp://x" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("NEXUS_DRIFT_URL must start with http");
  });
});
