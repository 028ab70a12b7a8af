import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, raised, startNotifier } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each test routes its own namespace to its own receiver; receivers answer as scripted. */
describe("retries, Retry-After, dead letters and re-sends", () => {
  let h: Harness;
  let flaky: ScriptedReceiver;
  let slack: ScriptedReceiver;
  let pd: ScriptedReceiver;
  let down: ScriptedReceiver;

  beforeAll(async () => {
    [h, flaky, slack, pd, down] = await Promise.all([
      startNotifier(),
      startReceiver(),
      startReceiver(),
      startReceiver({ status: 202 }),
      startReceiver({ status: 500, body: "down" }),
    ]);
    const route = (ns: string, receiver: string) => ({
      matchers: [{ label: "namespace", op: "=", value: ns }],
      receiver,
    });
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "flaky",
        groupBy: ["namespace"],
        groupWaitMs: 0,
        routes: [
          route("retry", "flaky"),
          route("slow", "slack"),
          { ...route("burst", "slack"), groupBy: ["namespace", "instance"] },
          route("paged", "pd"),
          route("down", "down"),
        ],
      },
      receivers: [
        { name: "flaky", type: "webhook", url: `${flaky.url}/h`, signingSecret: "whsec_test" },
        { name: "slack", type: "slack", webhookUrl: `${slack.url}/services/T/B/C` },
        { name: "pd", type: "pagerduty", routingKey: "PDKEY", url: `${pd.url}/v2/enqueue` },
        { name: "down", type: "webhook", url: `${down.url}/h` },
      ],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([flaky.close(), slack.close(), pd.close(), down.close()]);
  });

  it("retries a 500 with backoff and keeps the same delivery id (dedup key) on every attempt", async () => {
    flaky.script.push({ status: 500, body: "oops" }, { status: 503 });
    await h.publish("nexus.alert.raised", raised({ fingerprint: "r-1", labels: { namespace: "retry" } }));
    const reqs = await flaky.waitFor(3);
    const ids = reqs.map((r) => r.headers["x-nexus-delivery"]);
    expect(new Set(ids).size).toBe(1);
    const d = await h.until(async () => {
      const list = await h.call("GET", "/v1/deliveries?fingerprint=r-1");
      return list.body.items[0]?.status === "delivered" ? list.body.items[0] : null;
    });
    expect(d).toMatchObject({ attempts: 3, lastStatusCode: 200, lastError: null, deadReason: null });
  });

  it("honours Retry-After on a Slack 429", async () => {
    slack.script.push({ status: 429, headers: { "retry-after": "1" }, body: "rate_limited" });
    await h.publish("nexus.alert.raised", raised({ fingerprint: "sl-1", labels: { namespace: "slow" } }));
    const [limited, retried] = await slack.waitFor(2);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
  });

  it("sends messages to one Slack webhook at most one per interval (its queue)", async () => {
    const start = slack.requests.length;
    for (const i of [1, 2, 3]) {
      await h.publish(
        "nexus.alert.raised",
        raised({ fingerprint: `burst-${i}`, labels: { namespace: "burst", instance: `i${i}` } }),
      );
    }
    const sent = (await slack.waitFor(start + 3)).slice(start);
    // The harness sets 300 ms between sends (Slack's own limit, 1 s, is the default). Arrival
    // times carry the machine's scheduling jitter, so check the span and allow a little per gap.
    const gaps = sent.slice(1).map((r, i) => r.at - sent[i]!.at);
    expect(sent[2]!.at - sent[0]!.at).toBeGreaterThanOrEqual(520);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(180);
  });

  it("does not retry PagerDuty on 400 and dead-letters with the reason", async () => {
    pd.script.push({ status: 400, body: '{"status":"invalid event","errors":["routing_key invalid"]}' });
    await h.publish("nexus.alert.raised", raised({ fingerprint: "pd-bad", labels: { namespace: "paged" } }));
    await pd.waitFor(1);
    const dead = await h.until(async () => {
      const list = await h.call("GET", "/v1/deliveries?status=dead&receiver=pd");
      return list.body.items[0];
    });
    expect(dead).toMatchObject({ attempts: 1, lastStatusCode: 400, action: "trigger", dedupKey: "pd-bad" });
    expect(dead.deadReason).toContain("not retried: HTTP 400");
    await sleep(400);
    expect(pd.requests).toHaveLength(1);
  });

  it("dead-letters after the last attempt with the reason, and re-sends from the API", async () => {
    await h.publish("nexus.alert.raised", raised({ fingerprint: "dl-1", labels: { namespace: "down" } }));
    await down.waitFor(3);
    const dead = await h.until(
      async () => (await h.call("GET", "/v1/deliveries?status=dead&receiver=down")).body.items[0],
    );
    expect(dead).toMatchObject({ attempts: 3, maxAttempts: 3, lastStatusCode: 500 });
    expect(dead.deadReason).toBe("gave up after 3 attempts; last: HTTP 500: down");
    const history = await h.call("GET", "/v1/alerts/dl-1");
    expect(history.body.history.map((e: { kind: string }) => e.kind)).toContain("notification dead-lettered");

    down.fallback = { status: 200 };
    const resent = await h.call("POST", `/v1/deliveries/${dead.id}/resend`);
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ status: "pending", attempts: 0 });
    const again = await down.waitFor(4);
    expect(again[3]!.headers["x-nexus-delivery"]).toBe(again[0]!.headers["x-nexus-delivery"]);
    await h.until(async () => (await h.call("GET", `/v1/deliveries/${dead.id}`)).body.status === "delivered");
    const twice = await h.call("POST", `/v1/deliveries/${dead.id}/resend`);
    expect(twice.status).toBe(409);
  });
});
