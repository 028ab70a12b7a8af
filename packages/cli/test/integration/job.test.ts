/** `nexus job list/run/show` in-process against the real orchestrator, registry and drift-detector. */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  seedShop,
  startWorld,
  type World,
} from "../../../../services/orchestrator/test/integration/harness.js";
import { runNexus } from "./in-process.js";

describe("nexus job", () => {
  let world: World;
  let url: string;
  let admin: string;

  const nexus = (token: string, ...args: string[]) =>
    runNexus({ NEXUS_ORCHESTRATOR_URL: url, NEXUS_TOKEN: token }, args);

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    admin = await world.issuer.token(["admin"], { subject: "root" });
    // Production breaks this policy (its checkout is off, from the base): a scan with policies finds it.
    const policy = await world.detector.app.app.inject({
      method: "POST",
      url: "/v1/policies",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      payload: JSON.stringify({
        name: "checkout-on",
        environment: "production",
        rules: [{ op: "equals", path: "checkout.enabled", value: true }],
      }),
    });
    expect(policy.statusCode).toBe(201);
    const app = await world.startOrchestrator();
    await app.app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
    const put = (name: string, body: unknown) => world.call("PUT", `/v1/jobs/${name}`, body, admin);
    expect((await put("scan", { kind: "compliance-scan", namespaces: ["shop"] })).status).toBe(201);
    expect(
      (await put("quick", { kind: "compliance-scan", namespaces: ["shop"], policies: false })).status,
    ).toBe(201);
    expect(
      (await put("nightly-drill", { kind: "backup-drill", schedule: { cron: "0 3 * * *", timezone: "UTC" } }))
        .status,
    ).toBe(201);
  });
  afterAll(async () => {
    await world?.close();
  });

  it("lists jobs with their schedule and next time; refuses anyone but an admin", async () => {
    const listed = await nexus(admin, "job", "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      /nightly-drill\s+backup-drill\s+0 3 \* \* \* \(UTC\)\s+\d{4}-\d\d-\d\d \d\d:\d\d/,
    );
    expect(listed.out).toMatch(/\nquick\s+compliance-scan\s+-\s+-\s+root/);
    const json = JSON.parse((await nexus(admin, "--json", "job", "list")).out);
    expect(json.items.map((j: { name: string }) => j.name)).toEqual(["nightly-drill", "quick", "scan"]);
    const refused = await nexus(world.tokens.alice, "job", "list");
    expect(refused.code).toBe(5);
  });

  it("runs a job and waits: progress in words on stderr, the outcome and findings on stdout, exit 1 when it failed", async () => {
    const failed = await nexus(admin, "job", "run", "scan");
    expect(failed.code).toBe(1);
    expect(failed.err).toContain("started job run");
    expect(failed.err).toContain(
      "job scan (compliance-scan): checking each environment's resolved document against its schema and policies",
    );
    expect(failed.out).toMatch(
      /^job run [0-9a-f-]{36} of scan \(compliance-scan\), by hand by root: failed in \d+ s\n/,
    );
    expect(failed.out).toMatch(/shop\/production checkout\.enabled\s+policy\s+/);
    expect(failed.err).toMatch(/job run [0-9a-f-]{36} of scan failed: scanned/);

    const passed = await nexus(admin, "job", "run", "quick");
    expect(passed.code).toBe(0);
    expect(passed.out).toMatch(/of quick \(compliance-scan\), by hand by root: succeeded in \d+ s\n/);
    expect(passed.out).not.toContain("WHERE");
  });

  it("--no-wait returns the started run; show reads it by id; an unknown job or run is named", async () => {
    const started = await nexus(admin, "--json", "job", "run", "scan", "--no-wait");
    expect(started.code).toBe(0);
    const run0 = JSON.parse(started.out);
    expect(run0).toMatchObject({ job: "scan", status: "running", trigger: "manual" });
    const text = await nexus(admin, "job", "run", "quick", "--no-wait");
    expect(text.out).toMatch(
      /^Started job run ([0-9a-f-]{36}) of quick \(compliance-scan\)\.\nSee it with: nexus job show \1\n$/,
    );

    let shown = await nexus(admin, "--json", "job", "show", run0.id);
    for (let i = 0; i < 100 && JSON.parse(shown.out).status === "running"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      shown = await nexus(admin, "--json", "job", "show", run0.id);
    }
    expect(JSON.parse(shown.out)).toMatchObject({ id: run0.id, status: "failed" });
    const human = await nexus(admin, "job", "show", run0.id);
    expect(human.code).toBe(0);
    expect(human.out).toContain(`job run ${run0.id} of scan (compliance-scan), by hand by root: failed`);
    expect(human.out).toMatch(/shop\/production checkout\.enabled\s+policy/);

    const noJob = await nexus(admin, "job", "run", "absent");
    expect(noJob.code).toBe(1);
    expect(noJob.err).toContain("no job absent");
    const noRun = await nexus(admin, "job", "show", "00000000-0000-4000-8000-000000000000");
    expect(noRun.err).toContain("no job run");
    const badId = await nexus(admin, "job", "show", "not-a-uuid");
    expect(badId.code).toBe(4);
    expect(badId.err).toContain("id");
  });
});
