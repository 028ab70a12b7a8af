import { CONFIG_APPLIED, INSTANCE_HEARTBEAT } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, heartbeat, sleep, startWorld, type World } from "./harness.js";

/**
 * Staleness is judged only as far as reports are stored: an ack waiting in the detector's batch
 * (or backlog) when the grace period ends must not produce a stale finding.
 */
describe("a backlog of reports", () => {
  let w: World;
  beforeAll(async () => {
    w = await startWorld({ flushIntervalMs: 2_000, staleGraceMs: 300 });
    await call(w.registry, "POST", "/v1/namespaces", { name: "lag" });
    await call(w.registry, "PUT", "/v1/namespaces/lag/layers/base", { v: 1 });
  });
  afterAll(async () => w?.close());

  it("an instance whose ack is not written yet is not called stale", async () => {
    const read = async () =>
      (await call(w.registry, "GET", "/v1/namespaces/lag/environments/production/resolved")).body;
    const old = await read();
    await w.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({ namespace: "lag", instanceId: "slow-1", revision: old.revision, hash: old.hash }),
    );
    await eventually(
      () => w.call("GET", "/v1/namespaces/lag/environments/production/instances"),
      (r) => r.body.items.length === 1 && r.body.head?.revision === old.revision,
    );
    await call(w.registry, "PUT", "/v1/namespaces/lag/layers/production", { v: 2 });
    const head = await read();
    await w.publish(CONFIG_APPLIED, {
      schemaVersion: 1,
      service: "shop-api",
      instanceId: "slow-1",
      namespace: "lag",
      environment: "production",
      revision: head.revision,
      hash: head.hash,
      status: "applied",
      source: "live",
      trigger: "change",
      appliedAt: new Date().toISOString(),
    });
    // Longer than the grace period plus a flush: the ack is in Postgres by the end.
    await sleep(2_800);
    const listed = await w.call("GET", "/v1/namespaces/lag/environments/production/instances");
    expect(listed.body.items[0]).toMatchObject({ instanceId: "slow-1", revision: head.revision });
    const findings = await w.call("GET", "/v1/findings?namespace=lag&status=all");
    expect(findings.body.items).toEqual([]);
  });
});
