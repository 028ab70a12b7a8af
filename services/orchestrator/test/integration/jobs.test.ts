import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, seedShop, sleep, startWorld, type World } from "./harness.js";

/** Maintenance jobs: a compliance scan by hand and on a schedule (one fire per time), a drill without a backup service. */
describe("maintenance jobs", () => {
  let world: World;
  let admin: string;

  beforeAll(async () => {
    world = await startWorld();
    await seedShop(world);
    admin = await world.issuer.token(["admin"], { subject: "root" });
    // A schema every environment passes (the registry refuses one a document breaks): checked, no findings.
    const schema = await world.registryCall("PUT", "/v1/namespaces/shop/schema", {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: { replicas: { type: "integer", minimum: 1 } },
    });
    expect(schema.status).toBeLessThan(300);
    // A policy of production: the checkout must be on (production's is off, from the base).
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
    await world.startOrchestrator({ scheduleTickMs: 100, leaseRetryMs: 200 });
  });
  afterAll(async () => world?.close());

  const put = (name: string, body: unknown, token = admin) =>
    world.call("PUT", `/v1/jobs/${name}`, body, token);
  const runOf = async (id: string) => (await world.call("GET", `/v1/job-runs/${id}`, undefined, admin)).body;

  it("refuses a bad job naming the field, and anyone but an admin", async () => {
    const kind = await put("bad", { kind: "defrag" });
    expect(kind.status).toBe(400);
    expect(kind.body.error).toMatchObject({ code: "invalid_job", field: "kind" });
    const cron = await put("bad", { kind: "compliance-scan", schedule: { cron: "nightly" } });
    expect(cron.status).toBe(400);
    expect(cron.body.error.field).toBe("schedule.cron");
    const extra = await put("bad", { kind: "backup-drill", namespaces: ["shop"] });
    expect(extra.status).toBe(400);
    expect((await put("scan", { kind: "compliance-scan" }, world.tokens.alice)).status).toBe(403);
    expect((await world.call("GET", "/v1/jobs", undefined, world.tokens.alice)).status).toBe(403);
    expect((await world.call("GET", "/v1/jobs", undefined, admin)).body.items).toEqual([]);
  });

  it("a compliance scan checks every environment against the schema and policies, reporting each finding", async () => {
    const created = await put("scan", { kind: "compliance-scan", namespaces: ["shop", "gone"] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: "scan", kind: "compliance-scan", nextRunAt: null });
    const started = await world.call("POST", "/v1/jobs/scan/runs", {}, admin);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: "running", trigger: "manual", startedBy: "root" });
    const done = await eventually(
      () => runOf(started.body.id),
      (r) => r.status !== "running",
    );
    expect(done.status).toBe("failed");
    const found = done.findings.map(
      (f: { namespace: string; environment: string | null; kind: string; path: string | null }) =>
        `${f.namespace}/${f.environment}/${f.kind}/${f.path}`,
    );
    expect(found).toEqual(
      expect.arrayContaining(["shop/production/policy/checkout.enabled", "gone/null/unreadable/null"]),
    );
    expect(found.filter((f: string) => f.includes("/schema/"))).toEqual([]);
    expect(done.summary).toMatch(/^scanned \d+ environment\(s\) of 1 namespace\(s\): 2 finding\(s\)/);
    // Its start and its end were announced, once each, with what the run recorded.
    const ended = await eventually(
      async () => world.eventsOf("nexus.job.failed", started.body.id),
      (e) => e.length > 0,
    );
    expect(world.eventsOf("nexus.job.started", started.body.id).map((e) => e.data)).toEqual([
      {
        schemaVersion: 1,
        runId: started.body.id,
        job: "scan",
        kind: "compliance-scan",
        trigger: "manual",
        scheduledAt: null,
        startedBy: "root",
      },
    ]);
    expect(ended[0]?.data).toMatchObject({ job: "scan", summary: done.summary, findings: 2 });
    expect(ended[0]?.subject).toBe(`job-run/${started.body.id}`);
    expect(world.eventsOf("nexus.job.succeeded", started.body.id)).toEqual([]);
    const listed = await world.call("GET", "/v1/jobs/scan/runs", undefined, admin);
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([started.body.id]);
    // Writes are audited like every other route.
    const audit = await world.db.pool.query(
      "SELECT action FROM audit_log WHERE resource = '/v1/jobs/scan/runs'",
    );
    expect(audit.rows.map((r) => r.action)).toContain("POST /v1/jobs/:name/runs");
  });

  it("fires a scheduled job once per time with two instances, then stops when the schedule goes", async () => {
    await world.startOrchestrator({ scheduleTickMs: 100, leaseRetryMs: 200 });
    const every = {
      kind: "compliance-scan",
      namespaces: ["shop"],
      schedule: { cron: "*/2 * * * * *", misfireGraceSeconds: 1 },
    };
    expect((await put("nightly", every)).status).toBe(201);
    const scheduled = async () =>
      (
        await world.db.pool.query(
          "SELECT scheduled_at, status FROM job_runs WHERE job = 'nightly' AND trigger = 'schedule' ORDER BY scheduled_at",
        )
      ).rows as { scheduled_at: Date; status: string }[];
    await eventually(scheduled, (rows) => rows.length >= 2, 15_000);
    expect((await put("nightly", { kind: "compliance-scan", namespaces: ["shop"] })).status).toBe(200);
    await sleep(500);
    const rows = await scheduled();
    const times = rows.map((r) => r.scheduled_at.getTime());
    expect(new Set(times).size).toBe(times.length);
    for (const t of times) expect(t % 2_000).toBe(0);
    // Each fired time is announced once, though two instances compete for it.
    const ids = (
      await world.db.pool.query("SELECT id FROM job_runs WHERE job = 'nightly' AND trigger = 'schedule'")
    ).rows.map((r) => r.id as string);
    await eventually(
      async () => ids.map((id) => world.eventsOf("nexus.job.started", id).length),
      (counts) => counts.every((n) => n === 1),
    );
    await eventually(
      // shop breaks production's policy: each scheduled scan fails, and says so once.
      async () =>
        ids.map(
          (id) =>
            world.eventsOf("nexus.job.failed", id).length + world.eventsOf("nexus.job.succeeded", id).length,
        ),
      (counts) => counts.every((n) => n === 1),
    );
    await sleep(2_500);
    expect((await scheduled()).length).toBe(rows.length);
    const job = await world.call("GET", "/v1/jobs/nightly", undefined, admin);
    expect(job.body.nextRunAt).toBeNull();
  });

  it("a backup drill without a backup service fails saying so; a deleted job is gone", async () => {
    expect((await put("drill", { kind: "backup-drill" })).status).toBe(201);
    const started = await world.call("POST", "/v1/jobs/drill/runs", {}, admin);
    const done = await eventually(
      () => runOf(started.body.id),
      (r) => r.status !== "running",
    );
    expect(done).toMatchObject({ status: "failed", summary: "no backup service to drill: set BACKUP_URL" });
    expect((await world.call("DELETE", "/v1/jobs/drill", undefined, admin)).status).toBe(204);
    expect((await world.call("GET", "/v1/jobs/drill", undefined, admin)).status).toBe(404);
    expect((await runOf(started.body.id)).status).toBe("failed");
  });

  it("a run whose instance stopped is recorded as failed, interrupted, and announced once", async () => {
    // As a killed instance leaves it: running, its claim lapsed, nobody to finish it.
    const id = "9a1f3c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
    await world.db.pool.query(
      `INSERT INTO job_runs (id, job, kind, trigger, started_by, status, claim_expires_at, started_at)
       VALUES ($1, 'scan', 'compliance-scan', 'manual', 'root', 'running', now() - interval '1 second', now() - interval '5 seconds')`,
      [id],
    );
    const failed = await eventually(
      async () => world.eventsOf("nexus.job.failed", id),
      (e) => e.length > 0,
    );
    expect(failed[0]?.data).toMatchObject({
      job: "scan",
      summary: "interrupted: the instance running it stopped",
      findings: 0,
    });
    expect(failed[0]?.data.durationMs).toBeGreaterThanOrEqual(3_000);
    const row = await world.db.pool.query("SELECT status, finished_at FROM job_runs WHERE id = $1", [id]);
    expect(row.rows[0].status).toBe("failed");
    expect(row.rows[0].finished_at).not.toBeNull();
    await sleep(1_500); // another sweep or two: nothing more to announce
    expect(world.eventsOf("nexus.job.failed", id)).toHaveLength(1);
  });
});
