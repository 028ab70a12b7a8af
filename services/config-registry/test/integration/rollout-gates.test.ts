import { randomUUID } from "node:crypto";
import {
  CONFIG_CHANGED,
  type RolloutGateCommand,
  RolloutGateReply,
  rolloutGateSubject,
} from "@nexus/contracts";
import type { EventOf } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamespaceStore } from "../../src/namespaces/namespace-store.js";
import { call, type Harness, startRegistry } from "./harness.js";

const gate = (h: Harness, body: RolloutGateCommand, subject = rolloutGateSubject(body)) =>
  h.nats.bus.requestCommand(subject, body, RolloutGateReply);

/** `rolloutGate` of the config.changed events one write caused, by namespace/environment. */
async function gatesOfWrite(h: Harness, durable: string, write: () => Promise<unknown>, expected: number) {
  const received: EventOf<typeof CONFIG_CHANGED>[] = [];
  const consumption = await h.nats.bus.consume(
    CONFIG_CHANGED,
    { durable, deliverPolicy: "new" },
    async (e) => {
      received.push(e);
    },
  );
  try {
    await write();
    const deadline = Date.now() + 5_000;
    while (received.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(expected);
    return Object.fromEntries(
      received.map((e) => [`${e.data.namespace}/${e.data.environment}`, e.data.rolloutGate]),
    );
  } finally {
    await consumption.stop();
  }
}

describe("rollout gates (nexus.config.cmd.rollout-gate.<env>.<ns>) mark config.changed", () => {
  let h: Harness;
  const run = randomUUID();
  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: "payments-api" });
    await call(h, "POST", "/v1/namespaces", { name: "web" });
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/base", { timeout: 1 });
    await call(h, "PUT", "/v1/namespaces/web/layers/base", {
      upstreamTimeout: "${ref:payments-api:timeout}",
    });
    // Published before any test's consumer starts (it takes only what is new).
    await h.registry.relay.drain();
  });
  afterAll(async () => h?.close());

  it("says false where no gate is open, true in the gated environment, for the target and its readers", async () => {
    const none = await gatesOfWrite(
      h,
      "gate-none",
      () => call(h, "PUT", "/v1/namespaces/payments-api/layers/base", { timeout: 2 }),
      6,
    );
    expect(Object.values(none)).toEqual([false, false, false, false, false, false]);

    const opened = await gate(h, {
      schemaVersion: 1,
      namespace: "payments-api",
      environment: "production",
      runId: run,
      open: true,
    });
    expect(opened).toEqual({ ok: true, namespace: "payments-api", environment: "production", runIds: [run] });
    const webRun = randomUUID();
    await gate(h, { schemaVersion: 1, namespace: "web", environment: "staging", runId: webRun, open: true });

    const gated = await gatesOfWrite(
      h,
      "gate-open",
      () => call(h, "PUT", "/v1/namespaces/payments-api/layers/base", { timeout: 3 }),
      6,
    );
    expect(gated).toEqual({
      "payments-api/development": false,
      "payments-api/staging": false,
      "payments-api/production": true,
      "web/development": false,
      "web/staging": true,
      "web/production": false,
    });
    await gate(h, { schemaVersion: 1, namespace: "web", environment: "staging", runId: webRun, open: false });
  });

  it("marks a write prepared from a state held before another instance opened the gate (the swap orders them)", async () => {
    // The registry holds the namespace's write state after a write; another instance (here the
    // store on the shared database, as that instance's command handler runs it) opens a gate.
    await call(h, "PUT", "/v1/namespaces/payments-api/layers/staging", { timeout: 10 });
    await h.registry.relay.drain();
    const other = randomUUID();
    const after = await createNamespaceStore().setRolloutGate(h.db.pool, "payments-api", {
      environment: "staging",
      runId: other,
      open: true,
    });
    expect(after?.gates).toEqual({ [run]: "production", [other]: "staging" });
    const gated = await gatesOfWrite(
      h,
      "gate-held",
      () => call(h, "PUT", "/v1/namespaces/payments-api/layers/staging", { timeout: 11 }),
      2,
    );
    expect(gated).toEqual({ "payments-api/staging": true, "web/staging": false });
    await gate(h, {
      schemaVersion: 1,
      namespace: "payments-api",
      environment: "staging",
      runId: other,
      open: false,
    });
  });

  it("closes idempotently; a closed gate's place says false again", async () => {
    const body = {
      schemaVersion: 1 as const,
      namespace: "payments-api",
      environment: "production",
      runId: run,
      open: false,
    };
    for (let i = 0; i < 2; i++)
      expect(await gate(h, body)).toEqual({
        ok: true,
        namespace: "payments-api",
        environment: "production",
        runIds: [],
      });
    const closed = await gatesOfWrite(
      h,
      "gate-closed",
      () => call(h, "PUT", "/v1/namespaces/payments-api/layers/production", { timeout: 4 }),
      2,
    );
    expect(closed).toEqual({ "payments-api/production": false, "web/production": false });
  });

  it("refuses a body that disagrees with its subject, an unknown namespace or environment, and changes nothing", async () => {
    const versionBefore = await h.db.pool.query(
      "SELECT write_version, rollout_gates FROM namespaces WHERE name = 'payments-api'",
    );
    const body = {
      schemaVersion: 1 as const,
      namespace: "payments-api",
      environment: "production",
      runId: randomUUID(),
      open: true,
    };
    expect(
      await gate(h, body, rolloutGateSubject({ namespace: "web", environment: "production" })),
    ).toMatchObject({
      ok: false,
      error: { statusCode: 400, code: "subject_mismatch", field: "namespace" },
    });
    expect(await gate(h, { ...body, environment: "qa" })).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "environment_not_found", field: "environment" },
    });
    expect(await gate(h, { ...body, namespace: "nobody" })).toMatchObject({
      ok: false,
      error: { statusCode: 404, code: "namespace_not_found", field: "namespace" },
    });
    expect(await gate(h, { ...body, runId: "not-a-run" })).toMatchObject({
      ok: false,
      error: { statusCode: 400, field: "runId" },
    });
    const versionAfter = await h.db.pool.query(
      "SELECT write_version, rollout_gates FROM namespaces WHERE name = 'payments-api'",
    );
    expect(versionAfter.rows).toEqual(versionBefore.rows);
  });
});
