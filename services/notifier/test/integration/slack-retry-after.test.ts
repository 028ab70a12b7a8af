/**
 * Slack's `Retry-After` holds a webhook for every message and every instance: after a 429, the
 * messages that already claimed a pacing slot (waiting in either of two instances) do not go out
 * until the hold has passed, and waiting costs them no attempt. The receiver is a real local HTTP
 * server answering as a Slack incoming webhook does (`429 rate_limited` with `Retry-After`).
 */
import { createLogger, createPool, type Pool } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type NotifierApp } from "../../src/app.js";
import { type Harness, NOTIFIER_SCHEMA, raised, startNotifier, testConfig } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

const INTERVAL_MS = 300;
const RETRY_AFTER_S = 2;
const ANSWER_DELAY_MS = 1_000;
const logger = createLogger({ service: "notifier-b", level: "silent" });

describe("Slack Retry-After holds the webhook for every queued message", () => {
  let h: Harness;
  let other: NotifierApp;
  let otherPool: Pool;
  let slack: ScriptedReceiver;

  beforeAll(async () => {
    const shared = {
      slackIntervalMs: INTERVAL_MS,
      delivery: { ...testConfig().delivery, maxAttempts: 2, leaseMs: 10_000 },
    };
    [h, slack] = await Promise.all([startNotifier(shared), startReceiver({ status: 200, body: "ok" })]);
    otherPool = createPool({ connectionString: h.db.url, schema: NOTIFIER_SCHEMA, max: 4 });
    other = await buildApp({
      access: { authenticator: h.issuer.authenticator(logger) },
      logger,
      pool: otherPool,
      nc: h.nats.nc,
      bus: h.nats.bus,
      config: testConfig({ ...shared, consumeEvents: false }),
    });
    await other.workers.start();
    const res = await h.call("PUT", "/v1/routing", {
      route: { receiver: "slack", groupBy: ["instance"], groupWaitMs: 0 },
      receivers: [{ name: "slack", type: "slack", webhookUrl: `${slack.url}/services/T/B/HOLD` }],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await other?.workers.stop();
    await other?.app.close();
    await otherPool?.end();
    await h?.close();
    await slack?.close();
  });

  it("sends nothing to the webhook until Retry-After has passed, and no waiting message loses an attempt", async () => {
    slack.script.push({
      status: 429,
      headers: { "retry-after": String(RETRY_AFTER_S), "content-type": "text/plain" },
      body: "rate_limited",
      // Slack answers slowly under load: the other messages claim their slots meanwhile, and
      // those whose slot comes after this answer are the ones that must wait.
      delayMs: ANSWER_DELAY_MS,
    });
    const n = 6;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        h.publish("nexus.alert.raised", raised({ fingerprint: `hold-${i}`, labels: { instance: `i${i}` } })),
      ),
    );
    // n messages plus the one Slack refused, sent again.
    const sent = await slack.waitFor(n + 1, 20_000);
    const answeredAt = sent[0]!.at + ANSWER_DELAY_MS;
    // Requests sent while the 429 was on its way are Slack's to judge; none may start after it
    // and before the hold ends (timers and the database's clock may differ by a few ms).
    const early = sent.filter((r) => r.at > answeredAt + 30 && r.at < answeredAt + RETRY_AFTER_S * 1000 - 30);
    expect(early.map((r) => r.at - answeredAt)).toEqual([]);
    // The messages whose slot fell inside the hold were sent after it.
    expect(sent.filter((r) => r.at >= answeredAt + RETRY_AFTER_S * 1000 - 30).length).toBeGreaterThanOrEqual(
      2,
    );

    const items = await h.until(async () => {
      const list = await h.call("GET", "/v1/deliveries?receiver=slack");
      const all = list.body.items as { status: string; attempts: number; lastStatusCode: number }[];
      return all.length === n && all.every((d) => d.status === "delivered") ? all : null;
    }, 20_000);
    // Only the message Slack answered 429 used a second attempt; those that waited used one.
    const attempts = items.map((d) => d.attempts).sort();
    expect(attempts).toEqual([1, 1, 1, 1, 1, 2]);
  });
});
