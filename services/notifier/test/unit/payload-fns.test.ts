import { checkAddress, checkUrl, parseAllowList } from "@nexus/kit";
import { describe, expect, it } from "vitest";
import type { MessageAlert, NotificationMessage } from "../../src/receivers/message-types.js";
import { pagerDutyPayload, signWebhook, slackPayload } from "../../src/receivers/payload-fns.js";
import { plainText } from "../../src/receivers/text-fns.js";

const alert: MessageAlert = {
  fingerprint: "drift:1",
  status: "firing",
  eventType: "drift",
  severity: "critical",
  summary: "3 instances of payments-api run revision 6",
  details: "Expected revision 7.",
  labels: { namespace: "payments", environment: "production", instance: "pod-1" },
  links: [{ title: "Dashboard", url: "https://nexus.example.com/n/payments" }],
  source: "drift-detector",
  actionTaken: "Nexus sent a resync command to 3 instances.",
  startsAt: "2026-01-01T00:00:00.000Z",
  endsAt: null,
};
const message: NotificationMessage = { receiver: "r", groupKey: "g", groupLabels: {}, alerts: [alert] };

describe("message text", () => {
  it("says what happened, where, since when, what Nexus did, with links", () => {
    const text = plainText(message);
    for (const part of [
      "3 instances of payments-api run revision 6",
      "Where: payments in production, instance pod-1",
      "since 2026-01-01 00:00 UTC",
      "What Nexus did: Nexus sent a resync command to 3 instances.",
      "Dashboard: https://nexus.example.com/n/payments",
    ]) {
      expect(text).toContain(part);
    }
  });
});

describe("Slack", () => {
  it("has a text fallback, a header, fields, context and link buttons", () => {
    const p = slackPayload(message);
    expect(p.text).toContain("[FIRING]");
    expect(p.blocks.map((b) => (b as { type: string }).type)).toEqual([
      "header",
      "section",
      "context",
      "actions",
    ]);
    const header = p.blocks[0] as { text: { type: string; text: string } };
    expect(header.text.type).toBe("plain_text");
    expect(header.text.text.length).toBeLessThanOrEqual(150);
    expect((p.blocks[3] as { elements: { url: string }[] }).elements[0]!.url).toBe(
      "https://nexus.example.com/n/payments",
    );
  });
});

describe("PagerDuty", () => {
  it("triggers with dedup_key = fingerprint and resolves by dedup_key only", () => {
    expect(pagerDutyPayload("key", "trigger", alert)).toMatchObject({
      routing_key: "key",
      event_action: "trigger",
      dedup_key: "drift:1",
      payload: {
        severity: "critical",
        source: "payments in production, instance pod-1",
        custom_details: expect.any(Object),
      },
      links: [{ href: "https://nexus.example.com/n/payments", text: "Dashboard" }],
    });
    expect(pagerDutyPayload("key", "resolve", alert)).toEqual({
      routing_key: "key",
      event_action: "resolve",
      dedup_key: "drift:1",
    });
  });
});

describe("webhook signature", () => {
  it("is HMAC-SHA256 over timestamp.body", () => {
    // Independently computed: printf '1700000000.{}' | openssl dgst -sha256 -hmac s3cret
    expect(signWebhook("s3cret", 1700000000, "{}")).toBe(
      "sha256=97926816e98fbb41ccb1673225ff29a2f35369099990e1b1561651e7bd097ebf",
    );
    expect(signWebhook("s3cret", 1700000000, "{}")).not.toBe(signWebhook("s3cret", 1700000001, "{}"));
  });
});

describe("outbound addresses", () => {
  const policy = { allowHttp: false, allow: parseAllowList([]) };
  it("refuses loopback, private, link-local (metadata), unique-local and mapped forms", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "192.168.1.1",
      "172.16.0.1",
      "169.254.169.254",
      "::1",
      "fd00:ec2::254",
      "::ffff:127.0.0.1",
      "0.0.0.0",
      "100.64.0.1",
    ]) {
      expect(checkAddress(ip, policy).ok, ip).toBe(false);
    }
    expect(checkAddress("93.184.216.34", policy).ok).toBe(true);
  });
  it("lets allow-listed addresses through and requires https unless allowed", () => {
    const allowed = { allowHttp: true, allow: parseAllowList(["127.0.0.1"]) };
    expect(checkAddress("127.0.0.1", allowed).ok).toBe(true);
    expect(checkAddress("127.0.0.2", allowed).ok).toBe(false);
    expect(checkUrl("http://hooks.example.com/x", policy)).toEqual({ ok: false, reason: "must be https" });
    expect(checkUrl("https://169.254.169.254/latest", policy).ok).toBe(false);
    expect(checkUrl("https://localhost:8080/", policy).ok).toBe(false);
    expect(checkUrl("http://127.0.0.1:9/x", allowed).ok).toBe(true);
  });
});
