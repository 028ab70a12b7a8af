/**
 * A report's subject is its authority. A heartbeat or applied ack published on team-a's subject
 * whose body names team-b is dead-lettered, not recorded under team-b (a client allowed to publish
 * only on its own subjects could otherwise fake instances anywhere); a report about a namespace
 * the registry does not have is dead-lettered and never becomes an instance.
 */
import { type CloudEvent, CONFIG_APPLIED, INSTANCE_HEARTBEAT } from "@nexus/contracts";
import { collectEvents } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, heartbeat, type JsonBody, startWorld, type World } from "./harness.js";

describe("reports whose body disagrees with their subject, or name no namespace", () => {
  let w: World;
  let rev: { revision: number; hash: string };

  const instancesOf = async (ns: string) => {
    const res = await w.call("GET", `/v1/namespaces/${ns}/environments/production/instances`);
    return res.status === 200 ? (res.body.items as JsonBody[]).map((i) => i.instanceId as string) : [];
  };
  /** Publish `data` on the subject of `subjectOf` (what a publisher limited to that subject can do). */
  const publishOn = async (
    subjectOf: { namespace: string; environment: string },
    type: string,
    data: JsonBody,
  ) => {
    const bus = w.registry.nats.bus;
    const envelope = bus.envelope(type as typeof INSTANCE_HEARTBEAT, data) as CloudEvent<unknown>;
    await bus.publishEnvelope(
      bus.subjectFor(type as typeof INSTANCE_HEARTBEAT, { ...data, ...subjectOf }),
      envelope,
    );
    return envelope.id;
  };

  beforeAll(async () => {
    w = await startWorld();
    for (const ns of ["team-a", "team-b"]) {
      expect((await call(w.registry, "POST", "/v1/namespaces", { name: ns })).status).toBe(201);
      expect((await call(w.registry, "PUT", `/v1/namespaces/${ns}/layers/base`, { v: 1 })).status).toBe(200);
    }
    const resolved = await call(w.registry, "GET", "/v1/namespaces/team-b/environments/production/resolved");
    rev = { revision: resolved.body.revision, hash: resolved.body.hash };
  });
  afterAll(async () => {
    await w?.close();
  });

  it("dead-letters a heartbeat and an applied ack whose body names another namespace than the subject", async () => {
    const prefix = w.registry.nats.prefix;
    const letters = collectEvents(w.registry.nats.nc, `${prefix}.dlq.drift-inventory`, 2);
    const spoofedBeat = heartbeat({ namespace: "team-b", instanceId: "spoof-1", ...rev });
    const beatId = await publishOn(
      { namespace: "team-a", environment: "production" },
      INSTANCE_HEARTBEAT,
      spoofedBeat,
    );
    const ackId = await publishOn({ namespace: "team-a", environment: "production" }, CONFIG_APPLIED, {
      schemaVersion: 1,
      service: "shop-api",
      instanceId: "spoof-2",
      namespace: "team-b",
      environment: "production",
      ...rev,
      status: "applied",
      source: "live",
      trigger: "change",
      appliedAt: new Date().toISOString(),
    });
    // A genuine report of team-b, published after them, is recorded.
    await w.publish(INSTANCE_HEARTBEAT, heartbeat({ namespace: "team-b", instanceId: "real-b", ...rev }));

    const dead = await letters;
    const byId = new Map(dead.map((l) => [l.headers["Nexus-Dlq-Event-Id"], l.headers]));
    for (const id of [beatId, ackId]) {
      expect(byId.get(id)?.["Nexus-Dlq-Reason"]).toMatch(
        /^subject_mismatch: the body belongs on nexus\.(instance\.heartbeat|config\.applied)\.production\.team-b, it came on nexus\.\S+\.production\.team-a$/,
      );
    }
    await eventually(
      () => instancesOf("team-b"),
      (ids) => ids.includes("real-b"),
    );
    expect(await instancesOf("team-b")).toEqual(["real-b"]);
    expect(await instancesOf("team-a")).toEqual([]);
  });

  it("dead-letters reports about a namespace or environment the registry does not have", async () => {
    const prefix = w.registry.nats.prefix;
    const letters = collectEvents(w.registry.nats.nc, `${prefix}.dlq.drift-inventory`, 2);
    await w.publish(INSTANCE_HEARTBEAT, heartbeat({ namespace: "ghost", instanceId: "ghost-1", ...rev }));
    await w.publish(
      INSTANCE_HEARTBEAT,
      heartbeat({ namespace: "team-a", environment: "nowhere", instanceId: "ghost-2", ...rev }),
    );
    await w.publish(INSTANCE_HEARTBEAT, heartbeat({ namespace: "team-a", instanceId: "real-a", ...rev }));
    const dead = await letters;
    expect(dead.map((l) => l.headers["Nexus-Dlq-Reason"]).sort()).toEqual([
      "unknown_target: namespace ghost has no environment production in the registry (or does not exist)",
      "unknown_target: namespace team-a has no environment nowhere in the registry (or does not exist)",
    ]);
    await eventually(
      () => instancesOf("team-a"),
      (ids) => ids.includes("real-a"),
    );
    expect(await instancesOf("ghost")).toEqual([]);
    const all = await w.db.pool.query("SELECT instance_id FROM drift_detector.instances ORDER BY 1");
    expect(all.rows.map((r) => r.instance_id)).toEqual(["real-a", "real-b"]);
  });
});
