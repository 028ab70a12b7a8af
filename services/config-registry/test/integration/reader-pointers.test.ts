import { CONFIG_CHANGED } from "@nexus/contracts";
import type { EventOf } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { buildApp } from "../../src/app.js";
import { call, type Harness, startRegistry } from "./harness.js";

/**
 * A layer write re-resolves only the readers whose references read where the layer changed
 * (`namespace_dependencies.pointers`), and keeps those pointers exact when the write changes what
 * a reader reaches through the upstream. Which readers a write loaded is seen on the pool: the
 * one statement that loads them (`resolve-readers`) names each.
 */
const UP = "shared";
type Changed = EventOf<typeof CONFIG_CHANGED>;

describe("readers re-resolved by the pointers they read", () => {
  let h: Harness;
  const received: Changed[] = [];
  let stop: () => Promise<void>;
  let loaded: string[][] = [];

  const put = async (ns: string, body: Record<string, unknown>, layer = "base") => {
    const res = await call(h, "PUT", `/v1/namespaces/${ns}/layers/${layer}`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res;
  };
  const resolved = async (ns: string, env = "production") =>
    (await call(h, "GET", `/v1/namespaces/${ns}/environments/${env}/resolved`)).body.content;
  const pointers = async (ns: string, dependsOn: string) =>
    (
      await h.db.pool.query(
        "SELECT pointers FROM config_registry.namespace_dependencies WHERE namespace = $1 AND depends_on = $2",
        [ns, dependsOn],
      )
    ).rows[0]?.pointers;

  /** The write's events (after the relay drained) and the readers it loaded. */
  async function write(body: Record<string, unknown>, ns = UP) {
    loaded = [];
    const from = received.length;
    await put(ns, body);
    await h.registry.relay.drain();
    await new Promise((r) => setTimeout(r, 300));
    return {
      readers: loaded.flat().sort(),
      events: received
        .slice(from)
        .map((e) => `${e.data.namespace}/${e.data.environment}`)
        .sort(),
    };
  }
  const upEvents = ["development", "production", "staging"].map((e) => `${UP}/${e}`);
  const eventsOf = (...names: string[]) =>
    [
      ...upEvents,
      ...names.flatMap((n) => ["development", "production", "staging"].map((e) => `${n}/${e}`)),
    ].sort();

  beforeAll(async () => {
    h = await startRegistry();
    const query = h.db.pool.query.bind(h.db.pool);
    vi.spyOn(h.db.pool, "query").mockImplementation(((config: unknown, values?: unknown) => {
      const c = config as { name?: string; values?: unknown[] };
      if (c?.name === "resolve-readers")
        loaded.push((JSON.parse(String(c.values![0])) as { name: string }[]).map((r) => r.name));
      return query(config as never, values as never);
    }) as never);
    for (const name of [UP, "host-reader", "db-reader", "list-reader", "chain-reader", "third"])
      expect((await call(h, "POST", "/v1/namespaces", { name })).status).toBe(201);
    await put(UP, {
      database: { host: "pg-1", port: 5432 },
      hosts: ["a", "b"],
      alias: "plain",
      target: "t-1",
      unread: 0,
    });
    await put("third", { c: "c-1" });
    await put("host-reader", { host: `\${ref:${UP}:database.host}` });
    await put("db-reader", { db: `\${ref:${UP}:database}` });
    await put("list-reader", { first: `\${ref:${UP}:hosts[0]}` });
    await put("chain-reader", { via: `\${ref:${UP}:alias}` });
    await h.registry.relay.drain();
    const consumption = await h.nats.bus.consume(
      CONFIG_CHANGED,
      { durable: "reader-pointers", deliverPolicy: "new" },
      async (event) => {
        received.push(event);
      },
    );
    stop = () => consumption.stop();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await stop?.();
    await h?.close();
  });

  it("stores the pointers each reader reads", async () => {
    expect(await pointers("host-reader", UP)).toEqual(["/database/host"]);
    expect(await pointers("db-reader", UP)).toEqual(["/database"]);
    expect(await pointers("list-reader", UP)).toEqual(["/hosts/0"]);
  });

  it("re-resolves no reader and emits no reader event for a key no reader reads", async () => {
    const { readers, events } = await write({
      database: { host: "pg-1", port: 5432 },
      hosts: ["a", "b"],
      alias: "plain",
      target: "t-1",
      unread: 1,
    });
    expect(readers).toEqual([]);
    expect(events).toEqual(upEvents);
  });

  it("re-resolves the reader of a parent when a child changes, not the reader of a sibling", async () => {
    const { readers, events } = await write({
      database: { host: "pg-1", port: 6543 },
      hosts: ["a", "b"],
      alias: "plain",
      target: "t-1",
      unread: 1,
    });
    expect(readers).toEqual(["db-reader"]);
    expect(events).toEqual(eventsOf("db-reader"));
    expect(await resolved("db-reader")).toEqual({ db: { host: "pg-1", port: 6543 } });
  });

  it("re-resolves the reader of a child when its parent changes (an array is one value)", async () => {
    const { readers, events } = await write({
      database: { host: "pg-2", port: 6543 },
      hosts: ["z", "b"],
      alias: "plain",
      target: "t-1",
      unread: 1,
    });
    expect(readers).toEqual(["db-reader", "host-reader", "list-reader"]);
    expect(events).toEqual(eventsOf("db-reader", "host-reader", "list-reader"));
    expect(await resolved("list-reader")).toEqual({ first: "z" });
    expect(await resolved("host-reader")).toEqual({ host: "pg-2" });
  });

  it("follows what a reader reaches through the upstream when the upstream's own reference changes", async () => {
    // alias now reads the upstream's target: chain-reader reads both, from this write on.
    let step = await write({
      database: { host: "pg-2", port: 6543 },
      hosts: ["z", "b"],
      alias: "${ref:target}",
      target: "t-1",
      unread: 1,
    });
    expect(step.readers).toEqual(["chain-reader"]);
    expect(await pointers("chain-reader", UP)).toEqual(["/alias", "/target"]);
    expect(await resolved("chain-reader")).toEqual({ via: "t-1" });
    // A write of target alone (from the write state this instance holds) reaches it.
    step = await write({
      database: { host: "pg-2", port: 6543 },
      hosts: ["z", "b"],
      alias: "${ref:target}",
      target: "t-2",
      unread: 1,
    });
    expect(step.readers).toEqual(["chain-reader"]);
    expect(step.events).toEqual(eventsOf("chain-reader"));
    expect(await resolved("chain-reader")).toEqual({ via: "t-2" });

    // Through a third namespace: chain-reader now depends on it, and a write to it reaches it.
    step = await write({
      database: { host: "pg-2", port: 6543 },
      hosts: ["z", "b"],
      alias: "${ref:third:c}",
      target: "t-2",
      unread: 1,
    });
    expect(await pointers("chain-reader", "third")).toEqual(["/c"]);
    expect(await resolved("chain-reader")).toEqual({ via: "c-1" });
    step = await write({ c: "c-2" }, "third");
    expect(step.readers).toEqual(["chain-reader", UP]);
    expect(await resolved("chain-reader")).toEqual({ via: "c-2" });
  });

  it("re-resolves a reader whose pointers are not known (stored before they were kept) and stores them", async () => {
    await h.db.pool.query(
      "UPDATE config_registry.namespace_dependencies SET pointers = NULL WHERE namespace = 'host-reader'",
    );
    // This instance holds the upstream's write state from before the edit: a second instance,
    // which holds nothing, reads it (its relay is not started: this one's publishes).
    loaded = [];
    const from = received.length;
    const other = await buildApp(h.registryDeps);
    try {
      const res = await other.app.inject({
        method: "PUT",
        url: `/v1/namespaces/${UP}/layers/base`,
        headers: { authorization: `Bearer ${h.adminToken}` },
        payload: {
          database: { host: "pg-2", port: 6543 },
          hosts: ["z", "b"],
          alias: "${ref:third:c}",
          target: "t-2",
          unread: 2,
        },
      });
      expect(res.statusCode).toBe(200);
    } finally {
      await other.app.close();
    }
    await h.registry.relay.drain();
    await new Promise((r) => setTimeout(r, 300));
    const readers = loaded.flat().sort();
    const events = received
      .slice(from)
      .map((e) => `${e.data.namespace}/${e.data.environment}`)
      .sort();
    expect(readers).toEqual(["host-reader"]);
    expect(events).toEqual(upEvents); // its document did not change
    expect(await pointers("host-reader", UP)).toEqual(["/database/host"]);
  });
});
