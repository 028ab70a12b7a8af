import { CONFIG_CHANGED } from "@nexus/contracts";
import type { EventOf } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * A write to a namespace that many others read through `${ref:…}`: every reader whose resolved
 * document changed gets its new head and exactly one event per environment; the others nothing.
 */
const UPSTREAM = "platform";
const SEEING = Array.from({ length: 24 }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
/** Read the upstream, but not the key the write changes. */
const BLIND = Array.from({ length: 8 }, (_, i) => `blind-${i}`);
/** Reads the changed key in base, but its production overlay replaces it. */
const MASKED = "masked";
const ENVIRONMENTS = ["development", "production", "staging"];

type Changed = EventOf<typeof CONFIG_CHANGED>;

describe("a write to an upstream many namespaces read", () => {
  let h: Harness;
  const received: Changed[] = [];
  let stop: () => Promise<void>;

  beforeAll(async () => {
    h = await startRegistry();
    await call(h, "POST", "/v1/namespaces", { name: UPSTREAM });
    await call(h, "PUT", `/v1/namespaces/${UPSTREAM}/layers/base`, {
      database: { host: "pg-1.internal" },
      region: "eu-west-1",
      unread: 1,
    });
    for (const name of [...SEEING, MASKED]) {
      await call(h, "POST", "/v1/namespaces", { name });
      await call(h, "PUT", `/v1/namespaces/${name}/layers/base`, {
        service: name,
        database: { host: `\${ref:${UPSTREAM}:database.host}`, name },
      });
    }
    await call(h, "PUT", `/v1/namespaces/${MASKED}/layers/production`, { database: { host: "local" } });
    for (const name of BLIND) {
      await call(h, "POST", "/v1/namespaces", { name });
      await call(h, "PUT", `/v1/namespaces/${name}/layers/base`, { region: `\${ref:${UPSTREAM}:region}` });
    }
    await h.registry.relay.drain(); // the setup's events are out before we listen
    const consumption = await h.nats.bus.consume(
      CONFIG_CHANGED,
      { durable: "fan-in", deliverPolicy: "new" },
      async (event) => {
        received.push(event);
      },
    );
    stop = () => consumption.stop();
  });
  afterAll(async () => {
    await stop?.();
    await h?.close();
  });

  /** Events until `n` arrived, then a moment more in which no other may come. */
  async function eventsOf(write: () => Promise<unknown>, n: number): Promise<Changed[]> {
    const from = received.length;
    await write();
    const deadline = Date.now() + 15_000;
    while (received.length - from < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await h.registry.relay.drain();
    await new Promise((r) => setTimeout(r, 300));
    return received.slice(from);
  }

  const heads = async () =>
    new Map(
      (
        await h.db.pool.query<{ namespace: string; environment: string; revision: number; hash: string }>(
          "SELECT namespace, environment, revision, hash FROM config_registry.resolved_heads",
        )
      ).rows.map((r) => [`${r.namespace}/${r.environment}`, r]),
    );

  it("emits exactly one event per changed reader and environment, none for the others, and stores their heads", async () => {
    const before = await heads();
    const expected = [
      ...ENVIRONMENTS.map((e) => `${UPSTREAM}/${e}`),
      ...SEEING.flatMap((n) => ENVIRONMENTS.map((e) => `${n}/${e}`)),
      `${MASKED}/development`,
      `${MASKED}/staging`,
    ].sort();
    const events = await eventsOf(
      () =>
        call(h, "PUT", `/v1/namespaces/${UPSTREAM}/layers/base`, {
          database: { host: "pg-2.internal" },
          region: "eu-west-1",
          unread: 1,
        }),
      expected.length,
    );
    expect(events.map((e) => `${e.data.namespace}/${e.data.environment}`).sort()).toEqual(expected);

    const after = await heads();
    for (const event of events.filter((e) => e.data.namespace !== UPSTREAM)) {
      const key = `${event.data.namespace}/${event.data.environment}`;
      const old = before.get(key)!;
      // A dependency change keeps the reader's revision and moves its hash, from the one stored.
      expect(event.data).toMatchObject({
        trigger: "dependency",
        revision: old.revision,
        previousRevision: old.revision,
        previousHash: old.hash,
        hash: after.get(key)!.hash,
        changedPaths: ["/database/host"],
      });
      expect(event.data.hash).not.toBe(old.hash);
    }
    // Those that did not change kept their heads.
    for (const key of [
      ...BLIND.flatMap((n) => ENVIRONMENTS.map((e) => `${n}/${e}`)),
      `${MASKED}/production`,
    ]) {
      expect(after.get(key)).toEqual(before.get(key));
    }
    // Served as stored, from the cache the write filled: the new upstream value.
    for (const name of [SEEING[0]!, SEEING.at(-1)!]) {
      const read = await call(h, "GET", `/v1/namespaces/${name}/environments/production/resolved`);
      expect(read.body.content.database.host).toBe("pg-2.internal");
      expect(read.body.hash).toBe(after.get(`${name}/production`)!.hash);
    }
    const masked = await call(h, "GET", `/v1/namespaces/${MASKED}/environments/production/resolved`);
    expect(masked.body.content.database.host).toBe("local");
  });

  it("emits nothing for readers when the change is to a key none of them reads", async () => {
    const before = await heads();
    const events = await eventsOf(
      () =>
        call(h, "PUT", `/v1/namespaces/${UPSTREAM}/layers/base`, {
          database: { host: "pg-2.internal" },
          region: "eu-west-1",
          unread: 2,
        }),
      ENVIRONMENTS.length,
    );
    expect(events.map((e) => `${e.data.namespace}/${e.data.environment}`).sort()).toEqual(
      ENVIRONMENTS.map((e) => `${UPSTREAM}/${e}`),
    );
    const after = await heads();
    for (const [key, head] of before)
      if (!key.startsWith(`${UPSTREAM}/`)) expect(after.get(key)).toEqual(head);
  });

  it("re-resolves readers in a process that holds none of their documents", async () => {
    // A second instance on the same database, its workers (relay) not started: every reader's
    // head body comes from Postgres; this instance's relay publishes what it wrote.
    const other = await buildApp(h.registryDeps);
    try {
      const res = await other.app.inject({
        method: "PUT",
        url: `/v1/namespaces/${UPSTREAM}/layers/base`,
        headers: { authorization: `Bearer ${h.adminToken}` },
        payload: { database: { host: "pg-3.internal" }, region: "eu-west-1", unread: 2 },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await other.app.close();
    }
    const expected = 3 + SEEING.length * 3 + 2;
    const events = await eventsOf(() => h.registry.relay.drain(), expected);
    expect(events).toHaveLength(expected);
    for (const e of events.filter((x) => x.data.namespace !== UPSTREAM))
      expect(e.data.changedPaths).toEqual(["/database/host"]);
  });
});
