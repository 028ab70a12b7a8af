import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, raised, resolvedOf, startNotifier } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

/** Real local Slack and PagerDuty stand-ins check the exact payloads; alerts come over the bus. */
describe("Slack and PagerDuty receivers", () => {
  let h: Harness;
  let slack: ScriptedReceiver;
  let pd: ScriptedReceiver;

  beforeAll(async () => {
    [h, slack, pd] = await Promise.all([
      startNotifier(),
      startReceiver(),
      startReceiver({ status: 202, body: '{"status":"success"}' }),
    ]);
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "slack",
        groupBy: ["namespace"],
        groupWaitMs: 0,
        groupIntervalMs: 200,
        routes: [
          {
            matchers: [{ label: "severity", op: "=", value: "critical" }],
            receiver: "pd",
            continue: true,
            groupWaitMs: 0,
          },
          { matchers: [{ label: "namespace", op: "=~", value: ".+" }], receiver: "slack" },
        ],
      },
      receivers: [
        { name: "slack", type: "slack", webhookUrl: `${slack.url}/services/T000/B000/XXXX` },
        {
          name: "pd",
          type: "pagerduty",
          routingKey: "R0UTINGKEY00000000000000000000",
          url: `${pd.url}/v2/enqueue`,
        },
      ],
      comment: "initial",
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([slack.close(), pd.close()]);
  });

  it("sends a critical alert to PagerDuty (trigger, dedup_key = fingerprint) and to Slack with Block Kit", async () => {
    await h.publish("nexus.alert.raised", raised());
    const [trigger] = await pd.waitFor(1);
    expect(trigger!.path).toBe("/v2/enqueue");
    expect(trigger!.body).toEqual({
      routing_key: "R0UTINGKEY00000000000000000000",
      event_action: "trigger",
      dedup_key: "fp-1",
      payload: {
        summary: "payments-api instances run an old revision",
        source: "payments in production, instance pod-1",
        severity: "critical",
        timestamp: "2026-01-01T00:00:00.000Z",
        component: "payments",
        group: "production",
        class: "alert",
        custom_details: {
          details: "3 of 3 instances still run revision 6.",
          nexus_did: "Nexus sent a resync command to 3 instances.",
          labels: expect.objectContaining({
            namespace: "payments",
            severity: "critical",
            event_type: "alert",
          }),
          text: expect.stringContaining("Where: payments in production, instance pod-1"),
        },
      },
      client: "Nexus",
      client_url: "https://nexus.example.com",
      links: [{ href: "https://nexus.example.com/namespaces/payments", text: "Dashboard" }],
    });

    const [message] = await slack.waitFor(1);
    const body = message!.body as { text: string; blocks: { type: string; [k: string]: unknown }[] };
    expect(Object.keys(body).sort()).toEqual(["blocks", "text"]);
    expect(body.text).toContain("[FIRING] payments-api instances run an old revision");
    expect(body.blocks).toEqual([
      {
        type: "header",
        text: {
          type: "plain_text",
          text: "[FIRING] payments-api instances run an old revision",
          emoji: true,
        },
      },
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: "*payments-api instances run an old revision*\n3 of 3 instances still run revision 6.",
        },
        fields: [
          { type: "mrkdwn", text: "*Status*\n🔴 FIRING (critical)" },
          { type: "mrkdwn", text: "*Where*\npayments in production, instance pod-1" },
          { type: "mrkdwn", text: "*When*\nsince 2026-01-01 00:00 UTC" },
          { type: "mrkdwn", text: "*What Nexus did*\nNexus sent a resync command to 3 instances." },
        ],
      },
      {
        type: "context",
        elements: [
          { type: "mrkdwn", text: "Source: monitor · fingerprint fp-1 · started 2026-01-01 00:00 UTC" },
        ],
      },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            action_id: "link-0",
            text: { type: "plain_text", text: "Dashboard" },
            url: "https://nexus.example.com/namespaces/payments",
          },
        ],
      },
    ]);
  });

  it("acknowledges on PagerDuty with who and when recorded", async () => {
    const ack = await h.call("POST", "/v1/alerts/fp-1/ack", { comment: "looking" });
    expect(ack.status).toBe(200);
    expect(ack.body.alert.ack).toMatchObject({ by: "tester", comment: "looking" });
    const [, acknowledge] = await pd.waitFor(2);
    expect(acknowledge!.body).toEqual({
      routing_key: "R0UTINGKEY00000000000000000000",
      event_action: "acknowledge",
      dedup_key: "fp-1",
    });
  });

  it("resolves on PagerDuty with the same routing key and dedup key, and tells Slack", async () => {
    await h.publish("nexus.alert.resolved", resolvedOf(raised()));
    const requests = await pd.waitFor(3);
    expect(requests[2]!.body).toEqual({
      routing_key: "R0UTINGKEY00000000000000000000",
      event_action: "resolve",
      dedup_key: "fp-1",
    });
    const slackMessages = await slack.waitFor(2);
    const resolved = slackMessages[1]!.body as { text: string };
    expect(resolved.text).toContain("[RESOLVED] payments-api instances run an old revision");
    expect(resolved.text).toContain("from 2026-01-01 00:00 UTC until 2026-01-01 00:30 UTC");
  });

  it("keeps the history: what fired, when, who was told, who acked", async () => {
    const res = await h.until(async () => {
      const r = await h.call("GET", "/v1/alerts/fp-1");
      // A receiver may have the message a moment before its delivery is marked delivered.
      const notified = r.body.history.filter((e: { kind: string }) => e.kind === "notified").length >= 5;
      const settled = r.body.deliveries.every(
        (d: { status: string }) => d.status !== "sending" && d.status !== "pending",
      );
      return notified && settled ? r : null;
    });
    const kinds = res.body.history.map((e: { kind: string }) => e.kind);
    expect(kinds[0]).toBe("raised");
    expect(kinds).toContain("acknowledged");
    expect(kinds).toContain("resolved");
    expect(res.body.alert).toMatchObject({ status: "resolved", endsAt: "2026-01-01T00:30:00.000Z" });
    const told = res.body.deliveries.map(
      (d: { receiver: string; action: string; status: string }) => `${d.receiver}:${d.action}:${d.status}`,
    );
    expect(told.sort()).toEqual([
      "pd:acknowledge:delivered",
      "pd:resolve:delivered",
      "pd:trigger:delivered",
      "slack:notify:delivered",
      "slack:notify:delivered",
    ]);
  });

  it("never returns receiver secrets", async () => {
    const res = await h.call("GET", "/v1/routing");
    const text = JSON.stringify(res.body);
    expect(text).not.toContain("R0UTINGKEY");
    expect(text).not.toContain("XXXX");
    expect(res.body.config.receivers[0].webhookUrl).toBe("<redacted>");
    const deliveries = await h.call("GET", "/v1/deliveries");
    expect(JSON.stringify(deliveries.body)).not.toContain("R0UTINGKEY");
  });

  it("shows and lets people acknowledge only the alerts of namespaces they hold a grant on", async () => {
    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const other = await h.issuer.token(["viewer:orders"], { subject: "olga" });
    const viewer = await h.issuer.token(["viewer:payments"], { subject: "paula" });
    const editor = await h.issuer.token(["editor:payments:production"], { subject: "eddie" });
    expect((await h.call("GET", "/v1/alerts/fp-1", undefined, as(other))).status).toBe(404);
    expect((await h.call("GET", "/v1/alerts", undefined, as(other))).body.items).toEqual([]);
    const listed = await h.call("GET", "/v1/alerts", undefined, as(viewer));
    expect(listed.body.items.map((a: { fingerprint: string }) => a.fingerprint)).toEqual(["fp-1"]);
    expect((await h.call("POST", "/v1/alerts/fp-1/ack", {}, as(viewer))).status).toBe(403);
    const acked = await h.call("POST", "/v1/alerts/fp-1/ack", { comment: "mine" }, as(editor));
    expect(acked.status).toBe(200);
    expect(acked.body.alert.ack).toMatchObject({ by: "eddie", comment: "mine" });
  });
});
