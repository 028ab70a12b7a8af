/**
 * The notifier's operator metrics after some activity, scraped from /metrics: deliveries by
 * receiver type and outcome, the queue, Slack pacing waits, and the kit's consumer metrics.
 * Receivers are real local HTTP servers (a Slack webhook that answers 429 once, a webhook that
 * refuses with 400).
 */
import { namingProblems, parsePrometheusText } from "@nexus/test-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, raised, startNotifier } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

describe("notifier metrics", () => {
  let h: Harness;
  let slack: ScriptedReceiver;
  let refusing: ScriptedReceiver;
  const scrape = async () => {
    const res = await h.app.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    return parsePrometheusText(res.body);
  };

  beforeAll(async () => {
    [h, slack, refusing] = await Promise.all([
      startNotifier({ slackIntervalMs: 200 }),
      startReceiver(),
      startReceiver({ status: 400, body: "invalid payload" }),
    ]);
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "slack",
        groupBy: ["instance"],
        groupWaitMs: 0,
        routes: [{ matchers: [{ label: "namespace", op: "=", value: "hooked" }], receiver: "hook" }],
      },
      receivers: [
        { name: "slack", type: "slack", webhookUrl: `${slack.url}/services/T/B/M` },
        { name: "hook", type: "webhook", url: `${refusing.url}/h` },
      ],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
    await slack?.close();
    await refusing?.close();
  });

  it("counts deliveries by receiver type and outcome, pacing waits, and reports the queue and consumers", async () => {
    slack.script.push({ status: 429, headers: { "retry-after": "1" }, body: "rate_limited" });
    for (const i of [1, 2, 3]) {
      await h.publish("nexus.alert.raised", raised({ fingerprint: `m-${i}`, labels: { instance: `i${i}` } }));
    }
    await h.publish("nexus.alert.raised", raised({ fingerprint: "m-hook", labels: { namespace: "hooked" } }));
    // Three Slack messages, one of them sent again after the 429; one refused webhook.
    await Promise.all([slack.waitFor(4, 15_000), refusing.waitFor(1)]);
    await h.until(async () => {
      const list = await h.call("GET", "/v1/deliveries");
      return list.body.items.every(
        (d: { status: string }) => d.status === "delivered" || d.status === "dead",
      );
    });

    const m = await scrape();
    expect(namingProblems(m)).toEqual([]);
    expect(m.value("nexus_notifier_deliveries_total", { receiver_type: "slack", outcome: "delivered" })).toBe(
      3,
    );
    expect(m.value("nexus_notifier_deliveries_total", { receiver_type: "slack", outcome: "retry" })).toBe(1);
    expect(m.value("nexus_notifier_deliveries_total", { receiver_type: "webhook", outcome: "dead" })).toBe(1);
    // Every Slack send took a pacing slot; those queued behind another waited for theirs.
    expect(m.value("nexus_slack_pacing_wait_seconds_count")).toBeGreaterThanOrEqual(4);
    expect(m.value("nexus_slack_pacing_wait_seconds_sum")).toBeGreaterThan(0);
    expect(m.find("nexus_slack_pacing_postponed_total").every((s) => s.value >= 0)).toBe(true);
    expect(m.value("nexus_notifier_queued_deliveries", { receiver_type: "slack" })).toBe(0);
    expect(m.value("nexus_notifier_oldest_queued_delivery_age_seconds", { receiver_type: "webhook" })).toBe(
      0,
    );

    const consumer = m.find("nexus_consumer_pending_messages", { durable: "notifier" });
    expect(consumer.length).toBeGreaterThan(0);
    for (const s of consumer) expect(s.value).toBe(0);
    expect(m.value("nexus_dead_letter_messages", { durable: "notifier" })).toBe(0);
  });
});
