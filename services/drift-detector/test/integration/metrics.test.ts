/**
 * The detector's operator metrics after some activity, scraped from /metrics: instances by state,
 * open findings by kind, the inventory consumers and their dead letters (a spoofed report), the
 * outbox of its drift events.
 */
import { type CloudEvent, CONFIG_APPLIED, INSTANCE_HEARTBEAT } from "@nexus/contracts";
import { namingProblems, parsePrometheusText } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, heartbeat, startWorld, type World } from "./harness.js";

describe("drift-detector metrics", () => {
  let w: World;
  const scrape = async () => {
    const res = await w.detector.app.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    return parsePrometheusText(res.body);
  };
  const resolved = async () => {
    const r = await call(w.registry, "GET", "/v1/namespaces/shop/environments/production/resolved");
    return { revision: r.body.revision as number, hash: r.body.hash as string };
  };

  beforeAll(async () => {
    w = await startWorld();
  });
  afterAll(async () => {
    await w?.close();
  });

  it("reports instances by state, open findings by kind, consumers and dead letters", async () => {
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "shop" })).status).toBe(201);
    expect((await call(w.registry, "PUT", "/v1/namespaces/shop/layers/base", { v: 1 })).status).toBe(200);
    const rev1 = await resolved();
    await w.publish(INSTANCE_HEARTBEAT, heartbeat({ namespace: "shop", instanceId: "a", ...rev1 }));
    await w.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({ namespace: "shop", instanceId: "b", ...rev1, status: "cache" }),
    );
    await w.publish(INSTANCE_HEARTBEAT, heartbeat({ namespace: "shop", instanceId: "c", ...rev1 }));
    // A report published on shop's subject whose body names another namespace: dead-lettered.
    const bus = w.registry.nats.bus;
    const spoof = heartbeat({ namespace: "other", instanceId: "x", ...rev1 });
    await bus.publishEnvelope(
      bus.subjectFor(INSTANCE_HEARTBEAT, { ...spoof, namespace: "shop" }),
      bus.envelope(INSTANCE_HEARTBEAT, spoof) as CloudEvent<unknown>,
    );
    // A new head that c rejects (a finding of kind rejected); a and b are behind (stale, after grace).
    expect((await call(w.registry, "PUT", "/v1/namespaces/shop/layers/production", { v: 2 })).status).toBe(
      200,
    );
    const rev2 = await resolved();
    await eventually(
      () => w.call("GET", "/v1/namespaces/shop/environments/production/instances"),
      (r) => r.body?.head?.revision === rev2.revision,
    );
    await w.publish(CONFIG_APPLIED, {
      schemaVersion: 1,
      service: "shop-api",
      instanceId: "c",
      namespace: "shop",
      environment: "production",
      ...rev2,
      status: "rejected",
      reason: "schema check failed",
      source: "live",
      trigger: "change",
      appliedAt: new Date().toISOString(),
    });

    const m = await eventually(scrape, (m) => {
      const open = (kind: string) => m.find("nexus_drift_open_findings", { kind, status: "open" });
      // Findings are announced once their events leave the outbox, a moment after they are stored.
      const announced = m
        .find("nexus_drift_findings_announced_total", { transition: "opened" })
        .reduce((n, s) => n + s.value, 0);
      return open("rejected").length > 0 && open("stale").length > 0 && announced >= 2;
    });
    expect(namingProblems(m)).toEqual([]);
    expect(m.value("nexus_drift_instances", { state: "live" })).toBe(2);
    expect(m.value("nexus_drift_instances", { state: "cache" })).toBe(1);
    expect(m.value("nexus_drift_instances", { state: "gone" })).toBe(0);
    const openOf = (kind: string) =>
      m.find("nexus_drift_open_findings", { kind, status: "open" }).reduce((n, s) => n + s.value, 0);
    expect(openOf("rejected")).toBe(1);
    expect(openOf("stale")).toBe(2); // a and b, each behind the head
    expect(m.value("nexus_drift_findings_announced_total", { transition: "opened" })).toBeGreaterThanOrEqual(
      2,
    );
    expect(m.value("nexus_drift_reconcile_duration_seconds_count")).toBeGreaterThan(0);

    const inventory = { durable: "drift-inventory" };
    expect(m.value("nexus_dead_letters_total", { ...inventory, reason: "subject_mismatch" })).toBe(1);
    expect(m.value("nexus_dead_letter_messages", inventory)).toBe(1);
    const pending = m.find("nexus_consumer_pending_messages", inventory);
    expect(pending.map((s) => s.labels.consumer).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^drift-inventory-/)]),
    );
    for (const s of pending) expect(s.value).toBeGreaterThanOrEqual(0);
    // drift.detected went out through the outbox.
    expect(m.value("nexus_outbox_published_events_total")).toBeGreaterThanOrEqual(1);
    expect(m.value("nexus_outbox_publish_failures_total")).toBe(0);
    expect(m.find("nexus_outbox_pending_events")).toHaveLength(1);
  });
});
