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

/** A change costs the notifier no database work unless a route subscribes to changes. */
describe("config.changed notices", () => {
  let h: Harness;
  let hook: ScriptedReceiver;
  const rows = async (sql: string) => (await h.db.pool.query(sql)).rows[0].n as number;
  const noticeRows = () =>
    rows("SELECT count(*)::int AS n FROM alerts WHERE fingerprint LIKE 'config.changed:%'");
  const handledMarks = () => rows("SELECT count(*)::int AS n FROM processed_events");
  /** Until the notifier's config.changed durable has acknowledged everything. */
  const settled = async () => {
    const jsm = await jetstreamManager(h.nats.nc);
    await h.until(async () => {
      const info = await jsm.consumers.info(h.nats.streams.events, "notifier-config-changed");
      return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq > 0;
    });
  };

  beforeAll(async () => {
    [h, hook] = await Promise.all([startNotifier(), startReceiver()]);
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

  it("drops a change no route subscribes to before any database work", async () => {
    const marksBefore = await handledMarks();
    for (let r = 2; r <= 4; r++) await h.publish("nexus.config.changed", change(r));
    await settled();
    expect(await noticeRows()).toBe(0);
    expect(await handledMarks()).toBe(marksBefore);
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.requests).toHaveLength(0);
  });

  it("stores and sends a change once a route subscribes to it", async () => {
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupWaitMs: 0,
        routes: [{ matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" }],
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/in` }],
    });
    expect(res.status).toBe(200);
    await h.publish("nexus.config.changed", change(5));
    const [req] = await hook.waitFor(1);
    expect((req!.body as { title: string }).title).toContain("(revision 5)");
    expect(await noticeRows()).toBe(1);
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
