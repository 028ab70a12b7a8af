import { jetstreamManager } from "@nats-io/jetstream";
import { CONFIG_CHANGED } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call } from "../../../config-registry/test/integration/harness.js";
import { eventually, type JsonBody, startDetector, startWorld, type World } from "./harness.js";

/**
 * config.changed reaches heads, policies and source drift through one durable, and costs only what
 * it needs: no registry read when no policy applies and no policy finding is open.
 */
describe("the detector's one durable for config.changed", () => {
  let w: World;
  /** Registry reads (`config.cmd.get`) of namespace `pay`, counted on the wire. */
  const reads: string[] = [];
  const processed = async (consumer: string) =>
    (await w.db.pool.query("SELECT count(*)::int AS n FROM processed_events WHERE consumer = $1", [consumer]))
      .rows[0].n as number;
  const head = async () =>
    (
      await w.db.pool.query(
        "SELECT revision FROM heads WHERE namespace = 'pay' AND environment = 'production'",
      )
    ).rows[0]?.revision as number | undefined;
  const policyFindings = async () =>
    (
      ((await w.call("GET", "/v1/findings?namespace=pay&environment=production&kind=policy")).body
        .items as JsonBody[]) ?? []
    ).filter((f) => f.status !== "resolved");
  const write = async (body: unknown) => {
    const res = await call(w.registry, "PUT", "/v1/namespaces/pay/layers/production", body);
    expect(res.status).toBe(200);
    return res.body.revision as number;
  };

  beforeAll(async () => {
    w = await startWorld({ quietMs: 0 });
    const nc = w.registry.nats.nc;
    const sub = nc.subscribe(`${w.registry.nats.prefix}.config.cmd.get.*.pay`, {
      callback: (_e, m) => void reads.push(m.subject),
    });
    void sub;
    expect((await call(w.registry, "POST", "/v1/namespaces", { name: "pay" })).status).toBe(201);
  });
  afterAll(async () => w?.close());

  it("replaces the old durables on start: created where they had got to, then deleted", async () => {
    const bus = w.registry.nats.bus;
    const jsm = await jetstreamManager(w.registry.nats.nc);
    const stream = w.registry.nats.streams.events;
    // What a detector of the previous version left behind: three durables on config.changed.
    await w.detector.stop();
    const old = await Promise.all(
      ["drift-heads", "drift-policy", "drift-source"].map((durable) =>
        bus.consume(CONFIG_CHANGED, { durable }, () => undefined),
      ),
    );
    await Promise.all(old.map((c) => c.stop()));
    await jsm.consumers.delete(stream, "drift-changes-config-changed");
    const revision = await write({ database: { ssl: true } });

    w.detector = await startDetector(w.db, w.registry.nats.prefix, w.issuer, { quietMs: 0 });
    const names: string[] = [];
    for await (const c of jsm.consumers.list(stream)) names.push(c.name);
    expect(names.filter((n) => n.includes("config-changed")).sort()).toEqual([
      "drift-changes-config-changed",
    ]);
    // The change written while no detector ran is read by the new durable.
    await eventually(head, (r) => r === revision);
  });

  it("asks the registry nothing for a change no policy applies to", async () => {
    const policyBefore = await processed("drift-policy");
    reads.length = 0;
    let revision = 0;
    for (let i = 0; i < 5; i++) revision = await write({ database: { ssl: true, pool: i } });
    await eventually(head, (r) => r === revision);
    expect(await processed("drift-heads")).toBeGreaterThanOrEqual(6);
    expect(await processed("drift-policy")).toBe(policyBefore);
    expect(reads).toEqual([]);
  });

  it("evaluates a change a policy applies to, and resolves the finding once the policy is gone", async () => {
    const created = await w.call("POST", "/v1/policies", {
      name: "prod-tls",
      environment: "production",
      severity: "critical",
      rules: [{ op: "equals", path: "database.ssl", value: true }],
    });
    expect(created.status).toBe(201);
    await write({ database: { ssl: false } });
    const [finding] = await eventually(policyFindings, (f) => f.length === 1);
    expect(finding).toMatchObject({ kind: "policy", status: "open" });
    expect(reads.length).toBeGreaterThan(0);

    // The policy goes; the open finding still makes the next change worth evaluating.
    expect((await w.call("DELETE", `/v1/policies/${created.body.id}`)).status).toBe(204);
    await write({ database: { ssl: false }, note: "still no tls" });
    await eventually(policyFindings, (f) => f.length === 0);
  });
});
