import { openSealed } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { secretAad } from "../../src/routing/secret-fns.js";
import { type Harness, INTAKE_TOKEN, startNotifier, testSecretsKeys } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

const amPayload = (status: "firing" | "resolved") => ({
  version: "4",
  groupKey: '{}:{alertname="HighLatency"}',
  truncatedAlerts: 0,
  status,
  receiver: "nexus",
  groupLabels: { alertname: "HighLatency" },
  commonLabels: { alertname: "HighLatency" },
  commonAnnotations: {},
  externalURL: "http://alertmanager.example.com:9093",
  alerts: [
    {
      status,
      labels: {
        alertname: "HighLatency",
        severity: "critical",
        namespace: "payments",
        environment: "production",
      },
      annotations: { summary: "p99 latency above 2s", description: "for 10 minutes" },
      startsAt: "2026-01-01T00:00:00Z",
      endsAt: status === "resolved" ? "2026-01-01T00:20:00Z" : "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus.example.com/graph",
      fingerprint: "c0ffee0123456789",
    },
  ],
});

describe("Alertmanager intake", () => {
  let h: Harness;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [h, hook] = await Promise.all([startNotifier({ consumeEvents: false }), startReceiver()]);
    const res = await h.call("PUT", "/v1/routing", {
      route: { receiver: "hook", groupWaitMs: 0, groupIntervalMs: 200, groupBy: ["alertname"] },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/am` }],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
    await hook.close();
  });

  const intake = (body: unknown, token?: string) =>
    h.call("POST", "/v1/intake/alertmanager", body, {
      authorization: token === undefined ? "" : `Bearer ${token}`,
    });

  it("refuses a missing or wrong bearer token before looking at the body", async () => {
    expect((await intake({})).status).toBe(401);
    const wrong = await intake(amPayload("firing"), "not-the-token-at-all");
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: "unauthorized", field: "Authorization" });
  });

  it("answers 400 with the failing field for a bad payload", async () => {
    const res = await intake({ ...amPayload("firing"), version: "3" }, INTAKE_TOKEN);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_request", field: "version" });
    const noAlerts = await intake({ ...amPayload("firing"), alerts: [{ status: "firing" }] }, INTAKE_TOKEN);
    expect(noAlerts.status).toBe(400);
    expect(noAlerts.body.error.field).toMatch(/^alerts\.0\./);
  });

  it("maps alerts onto the alert model, routes them, and pairs the resolve", async () => {
    const res = await intake(amPayload("firing"), INTAKE_TOKEN);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 1, changed: 1 });
    const [fired] = await hook.waitFor(1);
    expect(fired!.body).toMatchObject({
      status: "firing",
      alerts: [
        expect.objectContaining({
          fingerprint: "alertmanager:c0ffee0123456789",
          severity: "critical",
          summary: "p99 latency above 2s",
          source: "alertmanager",
          eventType: "alertmanager",
        }),
      ],
    });
    expect((await intake(amPayload("firing"), INTAKE_TOKEN)).body).toEqual({ accepted: 1, changed: 0 });
    await intake(amPayload("resolved"), INTAKE_TOKEN);
    const [, resolved] = await hook.waitFor(2);
    expect(resolved!.body).toMatchObject({
      status: "resolved",
      alerts: [expect.objectContaining({ status: "resolved", endsAt: "2026-01-01T00:20:00.000Z" })],
    });
  });
});

describe("routing config API", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startNotifier({ consumeEvents: false });
  });
  afterAll(async () => {
    await h.close();
  });

  const receiver = {
    name: "team",
    type: "webhook",
    url: "http://127.0.0.1:9/x",
    signingSecret: "s3cr3t-signing",
  };

  it("refuses a route to a missing receiver with the field, and stores nothing", async () => {
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "team",
        routes: [{ receiver: "ghost", matchers: [{ label: "a", op: "=", value: "b" }] }],
      },
      receivers: [receiver],
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: "invalid_routing",
      field: "route.routes.0.receiver",
      message: "no receiver named ghost",
    });
    expect((await h.call("GET", "/v1/routing")).body.version).toBe(0);
  });

  it("versions every change, keeps the history, and rolls back as a new version", async () => {
    expect((await h.call("PUT", "/v1/receivers/team", receiver)).body.version).toBe(1);
    const v2 = await h.call("PUT", "/v1/routing/route", {
      route: { receiver: "team", groupBy: ["namespace"] },
      comment: "route all to team",
    });
    expect(v2.body).toMatchObject({ version: 2, author: "tester", comment: "route all to team" });
    const v3 = await h.call("PUT", "/v1/routing/inhibit-rules", {
      inhibitRules: [
        {
          sourceMatchers: [{ label: "severity", op: "=", value: "critical" }],
          targetMatchers: [{ label: "severity", op: "=", value: "warning" }],
          equal: ["namespace"],
        },
      ],
    });
    expect(v3.body.version).toBe(3);
    const history = await h.call("GET", "/v1/routing/versions");
    expect(history.body.items.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
    expect((await h.call("GET", "/v1/routing/versions/1")).body.config.route).toEqual({});
    const rolled = await h.call("POST", "/v1/routing/versions/2/rollback", {});
    expect(rolled.body).toMatchObject({ version: 4, comment: "rollback to version 2" });
    expect(rolled.body.config.inhibitRules).toEqual([]);
  });

  it("refuses deleting a receiver a route uses, and a stale If-Match", async () => {
    const del = await h.call("DELETE", "/v1/receivers/team");
    expect(del.status).toBe(422);
    expect(del.body.error.field).toBe("route.receiver");
    const stale = await h.call("PUT", "/v1/routing/route", { route: {} }, { "if-match": '"1"' });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toMatchObject({ code: "version_conflict", field: "If-Match" });
  });

  it("keeps secrets when a read config is written back with redacted values", async () => {
    const read = await h.call("GET", "/v1/routing");
    expect(read.body.config.receivers[0].signingSecret).toBe("<redacted>");
    const { version, author: _a, comment: _c, createdAt: _t, config } = read.body;
    const back = await h.call(
      "PUT",
      "/v1/routing",
      { ...config, comment: "no-op edit" },
      { "if-match": `"${version}"` },
    );
    expect(back.status).toBe(200);
    const stored = await h.db.pool.query("SELECT config FROM routing_versions ORDER BY version DESC LIMIT 1");
    // Stored sealed (AES-256-GCM); it opens to the value first given, bound to this receiver.
    const kept = stored.rows[0].config.receivers[0];
    expect(kept.signingSecret).toMatch(/^nxs1:test1:/);
    expect(openSealed(testSecretsKeys(), kept.signingSecret, secretAad(kept, "signingSecret"))).toBe(
      "s3cr3t-signing",
    );
  });

  it("keeps an audit trail of routing changes", async () => {
    await h.app.audit.flush();
    const res = await h.call("GET", "/v1/audit?actor=oidc:tester&resource=/v1/routing/route");
    expect(res.status).toBe(200);
    expect(res.body.entries.length).toBeGreaterThanOrEqual(1);
    expect(res.body.entries[0]).toMatchObject({
      actor: "oidc:tester",
      resource: "/v1/routing/route",
      outcome: "allowed",
    });
  });

  it("refuses an unauthenticated change", async () => {
    const res = await h.call("PUT", "/v1/routing/route", { route: {} }, { authorization: "" });
    expect(res.status).toBe(401);
  });
});
