import { connectConfig } from "@nexus/client";
import { CONFIG_APPLIED, INSTANCE_HEARTBEAT, POLICY_CHECK_COMMAND, PolicyCheckReply } from "@nexus/contracts";
import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, heartbeat, type JsonBody, startWorld, type World, watchDriftEvents } from "./harness.js";

describe("policies, remediation and a real SDK instance", () => {
  let w: World;
  let watch: Awaited<ReturnType<typeof watchDriftEvents>>;
  /** The staging revision before the remediation tests moved it on. */
  let old: { revision: number; hash: string };
  const resolved = async (env: string) => {
    const r = await call(w.registry, "GET", `/v1/namespaces/pay/environments/${env}/resolved`);
    return { revision: r.body.revision as number, hash: r.body.hash as string };
  };
  const active = async (kind: string, env: string) =>
    ((await w.call("GET", `/v1/findings?namespace=pay&environment=${env}&kind=${kind}`)).body
      .items as JsonBody[]) ?? [];

  beforeAll(async () => {
    w = await startWorld({ quietMs: 0 });
    watch = await watchDriftEvents(w.registry.nats.bus);
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "pay" })).status).toBe(201);
    await call(w.registry, "PUT", "/v1/namespaces/pay/layers/base", {
      database: { ssl: true, pool: 10 },
      log_level: "info",
    });
  });
  afterAll(async () => {
    await watch?.stop();
    await w?.close();
  });

  it("policy CRUD is for admins; bad rules are refused with the failing field", async () => {
    const viewer = await w.issuer.token(["viewer:*:*"]);
    const body = {
      name: "prod-baseline",
      environment: "production",
      severity: "critical",
      rules: [
        { op: "equals", path: "database.ssl", value: true },
        { op: "not-equals", path: "log_level", value: "debug" },
        { op: "min", path: "database.pool", value: 5 },
      ],
    };
    expect((await w.call("POST", "/v1/policies", body, viewer)).status).toBe(403);
    const bad = await w.call("POST", "/v1/policies", {
      ...body,
      rules: [{ op: "regex", path: "a", pattern: "(" }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({ code: "invalid_regex", field: "rules.0.pattern" });
    const badPath = await w.call("POST", "/v1/policies", {
      ...body,
      rules: [{ op: "required", path: "a..b" }],
    });
    expect(badPath.status).toBe(400);
    expect((await w.call("GET", "/v1/policies")).body.items).toEqual([]);

    const created = await w.call("POST", "/v1/policies", body);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "prod-baseline",
      createdBy: "alice",
      namespacePattern: "*",
    });
    expect((await w.call("POST", "/v1/policies", body)).status).toBe(409);
    const list = await w.call("GET", "/v1/policies?environment=production");
    expect(list.body.items).toHaveLength(1);
  });

  it("a config.changed that breaks a policy opens a policy finding and publishes policy.violated; fixing it resolves", async () => {
    await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {
      database: { ssl: false },
      log_level: "debug",
    });
    const [f] = await eventually(
      () => active("policy", "production"),
      (x) => x.length === 1,
    );
    const head = await resolved("production");
    expect(f).toMatchObject({ kind: "policy", severity: "critical", actual: head, instanceIds: [] });
    expect(f.violations.map((v: JsonBody) => v.path).sort()).toEqual(["database.ssl", "log_level"]);
    expect(f.summary).not.toContain('"debug"'.repeat(2));
    const violated = await eventually(
      async () => watch.of("nexus.policy.violated"),
      (e) => e.length === 1,
    );
    expect(violated[0]!.data).toMatchObject({ findingId: f.id, kind: "policy" });
    expect(violated[0]!.data.violations).toHaveLength(2);
    expect(watch.of("nexus.drift.detected", (d) => d.kind === "policy")).toEqual([]);

    await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", {
      database: { ssl: true },
      log_level: "warn",
    });
    await eventually(
      () => active("policy", "production"),
      (x) => x.length === 0,
    );
    const closed = await eventually(
      async () => watch.of("nexus.drift.resolved", (d) => d.findingId === f.id),
      (e) => e.length === 1,
    );
    expect(closed[0]!.data.resolution).toBe("the document now passes every policy");
  });

  it("the scheduled scan (run on demand) finds a violation that appeared without a change event", async () => {
    const policy = await w.call("POST", "/v1/policies", {
      name: "staging-no-debug",
      environment: "staging",
      rules: [{ op: "forbidden", path: "log_level", values: ["info", "debug"] }],
    });
    expect(policy.status).toBe(201);
    const scan = await w.call("POST", "/v1/policies/scan");
    expect(scan.status).toBe(200);
    expect(scan.body.violating).toBeGreaterThanOrEqual(1);
    const [f] = await active("policy", "staging");
    expect(f).toMatchObject({ severity: "warning" });
    expect((await w.call("DELETE", `/v1/policies/${policy.body.id}`)).status).toBe(204);
    await w.call("POST", "/v1/policies/scan");
    expect(await active("policy", "staging")).toEqual([]);
  });

  it("answers nexus.policy.cmd.check for a document before it is written", async () => {
    const reply = await w.registry.nats.bus.requestCommand(
      POLICY_CHECK_COMMAND,
      {
        schemaVersion: 1,
        namespace: "pay",
        environment: "production",
        document: { database: { ssl: false, pool: 2 } },
      },
      PolicyCheckReply,
    );
    expect(reply).toMatchObject({ ok: true, passed: false, policiesEvaluated: 1 });
    if (!reply.ok) throw new Error("unreachable");
    expect(reply.violations.map((v) => v.rule).sort()).toEqual(["equals", "min"]);
    const invalid = await w.registry.nats.bus.requestCommand(
      POLICY_CHECK_COMMAND,
      { schemaVersion: 1, namespace: "Not Valid", environment: "production", document: {} },
      PolicyCheckReply,
    );
    expect(invalid).toMatchObject({ ok: false, error: { statusCode: 400, field: "namespace" } });
  });

  it("remediate mode resyncs one stale instance with a published revision; the instance catches up", async () => {
    old = await resolved("staging");
    await call(w.registry, "PUT", "/v1/namespaces/pay/layers/staging", { database: { pool: 30 } });
    const staging = await resolved("staging");
    expect(staging.revision).toBeGreaterThan(old.revision);
    await w.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({ namespace: "pay", environment: "staging", instanceId: "s-1", ...old }),
    );
    const [f] = await eventually(
      () => active("stale", "staging"),
      (x) => x.length === 1,
    );
    expect(f.expected).toEqual(staging);
    const resyncs = collectEvents<JsonBody>(
      w.registry.nats.nc,
      `${w.registry.nats.prefix}.instance.resync.staging.pay`,
      1,
      8_000,
    );
    const set = await w.call("PUT", "/v1/namespaces/pay/environments/staging/remediation", {
      mode: "remediate",
    });
    expect(set.body).toMatchObject({ mode: "remediate" });
    const [cmd] = await resyncs;
    expect(cmd!.event).toMatchObject({
      schemaVersion: 1,
      namespace: "pay",
      environment: "staging",
      instanceId: "s-1",
      service: "shop-api",
      requestedBy: "drift-detector",
    });
    // The instance answers the resync the way the SDK does.
    await w.publish(CONFIG_APPLIED, {
      schemaVersion: 1,
      service: "shop-api",
      instanceId: "s-1",
      namespace: "pay",
      environment: "staging",
      ...staging,
      status: "applied",
      source: "live",
      trigger: "resync",
      resyncRequestId: cmd!.event.requestId,
      appliedAt: new Date().toISOString(),
    });
    await eventually(
      () => active("stale", "staging"),
      (x) => x.length === 0,
    );
    const history = await w.call("GET", "/v1/namespaces/pay/environments/staging/remediation");
    expect(history.body.remediations[0]).toMatchObject({
      instanceId: "s-1",
      targetRevision: staging.revision,
      attempt: 1,
    });
    const recorded = watch.of("nexus.drift.remediation-requested", (d) => d.instanceId === "s-1");
    expect(recorded[0]?.data).toMatchObject({
      findingId: f.id,
      action: "resync",
      requestId: cmd!.event.requestId,
    });
  });

  it("repeated failed resyncs escalate once instead of looping", async () => {
    await w.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({
        namespace: "pay",
        environment: "staging",
        instanceId: "s-deaf",
        ...old,
      }),
    );
    const [f] = await eventually(
      () => active("stale", "staging"),
      (x) => x.some((y) => y.instanceIds[0] === "s-deaf" && y.escalatedAt),
      10_000,
    ).then((x) => x.filter((y) => y.instanceIds[0] === "s-deaf"));
    expect(f).toMatchObject({ severity: "critical", remediationAttempts: 2 });
    const escalated = await eventually(
      async () => watch.of("nexus.drift.escalated", (d) => d.findingId === f.id),
      (e) => e.length === 1,
    );
    expect(escalated[0]!.data).toMatchObject({
      attempts: 2,
      previousSeverity: "warning",
      severity: "critical",
    });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(watch.of("nexus.drift.remediation-requested", (d) => d.instanceId === "s-deaf")).toHaveLength(2);
    expect(watch.of("nexus.drift.escalated", (d) => d.findingId === f.id)).toHaveLength(1);
  });

  it("a real @nexus/client instance shows up in the inventory and its rejection becomes a finding", async () => {
    const cfg = await connectConfig({
      namespace: "pay",
      environment: "development",
      service: "pay-api",
      nats: w.registry.nats.nc,
      subjectPrefix: w.registry.nats.prefix,
      heartbeatSeconds: 1,
      instanceId: "sdk-1",
    });
    try {
      cfg.on("change", (next) => {
        if ((next as { log_level?: string }).log_level === "trace")
          throw new Error("trace logging is not allowed here");
      });
      const dev = await resolved("development");
      const listed = await eventually(
        () => w.call("GET", "/v1/namespaces/pay/environments/development/instances"),
        (r) => r.body.items.some((i: JsonBody) => i.instanceId === "sdk-1"),
      );
      expect(listed.body.items.find((i: JsonBody) => i.instanceId === "sdk-1")).toMatchObject({
        service: "pay-api",
        ...dev,
        status: "live",
      });
      await call(w.registry, "PUT", "/v1/namespaces/pay/layers/development", { log_level: "trace" });
      const [f] = await eventually(
        () => active("rejected", "development"),
        (x) => x.length === 1,
      );
      expect(f).toMatchObject({ instanceIds: ["sdk-1"], actual: dev });
      expect(f.reason).toContain("trace logging is not allowed here");
    } finally {
      await cfg.close();
    }
    const [gone] = await eventually(
      async () =>
        (await w.call("GET", "/v1/findings?namespace=pay&environment=development&status=resolved")).body
          .items,
      (x: JsonBody[]) => x.length === 1,
    );
    expect(gone.resolution).toBe("the instance went away");
  });
});
