import { jetstreamManager } from "@nats-io/jetstream";
import type { ConfigChanged } from "@nexus/contracts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, startNotifier } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

const change = (revision: number): ConfigChanged => ({
  schemaVersion: 1,
  namespace: "payments",
  environment: "staging",
  revision,
  previousRevision: revision - 1,
  hash: String(revision % 10).repeat(64),
  previousHash: "b".repeat(64),
  layer: "staging",
  changedPaths: ["/db/pool"],
  trigger: "write",
  actor: "alice",
  source: "api",
});

/**
 * A change costs the notifier nothing unless a route subscribes to changes: without one, it does
 * not even consume `config.changed` (no durable, no delivery, no parse, no ack).
 */
describe("config.changed notices", () => {
  let h: Harness;
  let hook: ScriptedReceiver;
  const DURABLE = "notifier-config-changed";
  const rows = async (sql: string) => (await h.db.pool.query(sql)).rows[0].n as number;
  const noticeRows = () =>
    rows("SELECT count(*)::int AS n FROM alerts WHERE fingerprint LIKE 'config.changed:%'");
  const handledMarks = () => rows("SELECT count(*)::int AS n FROM processed_events");
  const durable = async () => {
    const jsm = await jetstreamManager(h.nats.nc);
    return jsm.consumers.info(h.nats.streams.events, DURABLE).catch(() => null);
  };
  const routeWithChanges = {
    route: {
      receiver: "hook",
      groupWaitMs: 0,
      routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" }],
    },
    // The receiver's address once it listens (beforeAll).
    receivers: [{ name: "hook", type: "webhook", url: "" }],
  };

  beforeAll(async () => {
    [h, hook] = await Promise.all([startNotifier(), startReceiver()]);
    routeWithChanges.receivers[0]!.url = `${hook.url}/in`;
    // A catch-all receiver: every alert goes there, but nobody subscribed to changes.
    const res = await h.call("PUT", "/v1/routing", {
      route: { receiver: "hook", groupWaitMs: 0 },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await hook?.close();
  });

  it("does not consume changes while no route subscribes to them", async () => {
    const marksBefore = await handledMarks();
    for (let r = 2; r <= 4; r++) await h.publish("nexus.config.changed", change(r));
    // Longer than the second a new durable reaches back for clocks: these stay unnotified below.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await durable()).toBeNull();
    expect(await noticeRows()).toBe(0);
    expect(await handledMarks()).toBe(marksBefore);
    expect(hook.requests).toHaveLength(0);
  });

  it("consumes from the routing change on once a route subscribes, and sends each change once", async () => {
    const res = await h.call("PUT", "/v1/routing", routeWithChanges);
    expect(res.status).toBe(200);
    // In place before the save answered, starting at the routing version (a moment before it, for
    // clocks): the changes published a while ago are not notified.
    const info = await durable();
    expect(info?.config.opt_start_time).toBeDefined();
    await h.publish("nexus.config.changed", change(5));
    const [req] = await hook.waitFor(1);
    expect((req!.body as { title: string }).title).toContain("(revision 5)");
    await new Promise((r) => setTimeout(r, 300));
    expect(await noticeRows()).toBe(1);
    expect(hook.requests).toHaveLength(1);
  });

  it("routes a failed maintenance job to a route asking for job notices, like pipeline notices", async () => {
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupWaitMs: 0,
        // Its own grouping: the change notice above sits in the route's group otherwise.
        routes: [
          {
            matchers: [{ label: "event_type", op: "=", value: "job" }],
            receiver: "hook",
            groupBy: ["job"],
          },
        ],
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(res.status).toBe(200);
    // No route asks for changes any more: the durable is gone, before the save answered.
    expect(await durable()).toBeNull();
    const before = hook.requests.length;
    await h.publish("nexus.job.failed", {
      schemaVersion: 1,
      runId: "5b0f0c2e-8a57-4c3f-9d59-4f9c2d3f1a10",
      job: "nightly-drill",
      kind: "backup-drill",
      trigger: "schedule",
      scheduledAt: "2026-01-01T03:00:00.000Z",
      startedBy: "schedule",
      summary: "backup bk-1 did not restore cleanly: table x differs",
      findings: 1,
      durationMs: 12_000,
    });
    const requests = await hook.waitFor(before + 1);
    expect((requests[before]!.body as { title: string }).title).toContain(
      "Backup drill nightly-drill failed",
    );
  });
});
