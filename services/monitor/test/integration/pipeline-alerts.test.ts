import { randomUUID } from "node:crypto";
import type { Subscription } from "@nats-io/transport-node";
import { PIPELINE_FAILED, PIPELINE_SUCCEEDED } from "@nexus/contracts";
import { type Bus, createBus, createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, type Harness, type JsonBody, startMonitor } from "./harness.js";

/**
 * The orchestrator's outcomes as it publishes them (the kit bus, source nexus/orchestrator, on
 * the monitor's prefix): a failed run fires `pipeline_failed` for its pipeline, the pipeline's
 * next succeeded run resolves it, and a late older failure does not bring it back.
 */
let h: Harness;
let orchestrator: Bus;
let sub: Subscription;
const announced: { type: string; fingerprint: string }[] = [];

const run = (pipeline: string) => ({
  schemaVersion: 1 as const,
  runId: randomUUID(),
  pipeline,
  pipelineVersion: 1,
  namespace: "payments",
  sourceEnvironment: "staging",
  environment: "prod",
});
const alerts = async (): Promise<JsonBody[]> =>
  (await h.call("GET", "/v1/alerts?status=firing,resolved")).body.items;
const alertOf = (items: JsonBody[], fingerprint: string) => items.find((a) => a.fingerprint === fingerprint);
const count = (type: string, fingerprint: string) =>
  announced.filter((e) => e.type === type && e.fingerprint === fingerprint).length;

beforeAll(async () => {
  h = await startMonitor();
  orchestrator = createBus({
    nc: h.nats.nc,
    prefix: h.nats.prefix,
    source: "nexus/orchestrator",
    logger: createLogger({ service: "orchestrator-test", level: "silent" }),
  });
  sub = h.nats.nc.subscribe(`${h.nats.prefix}.alert.>`);
  void (async () => {
    for await (const m of sub) {
      const e = m.json<{ type: string; data: { fingerprint: string } }>();
      announced.push({ type: e.type, fingerprint: e.data.fingerprint });
    }
  })();
  const put = await h.call("PUT", "/v1/alert-rules", {
    rules: [{ name: "pipeline-failed", kind: "pipeline_failed", pipelines: ["payments-*"] }],
  });
  expect(put.status).toBe(200);
}, 60_000);
afterAll(async () => {
  sub?.unsubscribe();
  await h?.close();
});

describe("monitor: pipeline_failed from the orchestrator's events", () => {
  it("is in the default rule set", async () => {
    const defaults = await h.call("GET", "/v1/alert-rules/versions/0");
    expect(defaults.status).toBe(200);
    expect(defaults.body.rules.some((r: JsonBody) => r.kind === "pipeline_failed")).toBe(true);
  });

  it("fires per pipeline on a failed run, resolves on its next success, ignores a late older failure", async () => {
    const fp = "monitor:pipeline-failed:payments-to-prod";
    const failedAt = new Date();
    const failure = {
      ...run("payments-to-prod"),
      step: { index: 1, name: "smoke", type: "run" },
      reason: "smoke test exited with code 3",
      rolledBack: true,
    };
    await orchestrator.publish(PIPELINE_FAILED, failure, { envelope: { time: failedAt } });
    // A pipeline outside the rule's globs fails too: no alert for it.
    await orchestrator.publish(PIPELINE_FAILED, { ...failure, ...run("billing-to-prod") });

    const firing = await eventually(alerts, (items) => alertOf(items, fp)?.status === "firing");
    expect(alertOf(firing, fp)).toMatchObject({
      severity: "error",
      labels: {
        pipeline: "payments-to-prod",
        namespace: "payments",
        environment: "prod",
        kind: "pipeline_failed",
      },
    });
    expect(alertOf(firing, fp).summary).toContain("at step smoke");
    expect(alertOf(firing, "monitor:pipeline-failed:billing-to-prod")).toBeUndefined();
    await eventually(
      async () => count("nexus.alert.raised", fp),
      (n) => n === 1,
    );

    await orchestrator.publish(
      PIPELINE_SUCCEEDED,
      { ...run("payments-to-prod"), promotedRevision: 7 },
      { envelope: { time: new Date(failedAt.getTime() + 1_000) } },
    );
    await eventually(
      async () => count("nexus.alert.resolved", fp),
      (n) => n === 1,
    );

    // A failure older than the success arrives late; then a newer failure of another watched pipeline.
    await orchestrator.publish(PIPELINE_FAILED, failure, {
      envelope: { time: new Date(failedAt.getTime() - 10_000) },
    });
    await orchestrator.publish(PIPELINE_FAILED, { ...failure, ...run("payments-to-eu") });
    await eventually(
      alerts,
      (items) => alertOf(items, "monitor:pipeline-failed:payments-to-eu")?.status === "firing",
    );
    expect(alertOf(await alerts(), fp).status).toBe("resolved");
    expect(count("nexus.alert.raised", fp)).toBe(1);
    const rows = await h.db.pool.query("SELECT outcome FROM monitor.pipeline_status WHERE pipeline = $1", [
      "payments-to-prod",
    ]);
    expect(rows.rows).toEqual([{ outcome: "succeeded" }]);
  });
});
