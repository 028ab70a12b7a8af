import { createHmac } from "node:crypto";
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, raised, startNotifier } from "./harness.js";
import { type ScriptedReceiver, type SmtpSink, startReceiver, startSmtpSink } from "./receivers.js";

describe("e-mail and signed webhooks", () => {
  let h: Harness;
  let smtp: SmtpSink;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [h, smtp, hook] = await Promise.all([startNotifier(), startSmtpSink(), startReceiver()]);
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "mail",
        groupWaitMs: 0,
        routes: [
          { matchers: [{ label: "namespace", op: "=", value: "hooked" }], receiver: "hook" },
          { matchers: [{ label: "event_type", op: "=", value: "config.changed" }], receiver: "hook" },
        ],
      },
      receivers: [
        {
          name: "mail",
          type: "email",
          from: "nexus@example.com",
          to: ["oncall@example.com", "team@example.com"],
          smtp: { host: "127.0.0.1", port: smtp.port, user: "nexus", password: "smtp-pass-secret" },
        },
        {
          name: "hook",
          type: "webhook",
          url: `${hook.url}/in?token=abc`,
          signingSecret: "whsec_0123456789",
          headers: { "X-Team": "payments" },
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.body)).not.toContain("smtp-pass-secret");
  });
  afterAll(async () => {
    await h.close();
    await Promise.all([smtp.close(), hook.close()]);
  });

  it("sends plain text and HTML over SMTP", async () => {
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "mail-1", labels: { namespace: "payments", environment: "production" } }),
    );
    await smtp.waitFor(1);
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe("nexus@example.com");
    expect(mail.to).toEqual(["oncall@example.com", "team@example.com"]);
    expect(mail.raw).toMatch(/^Subject: \[FIRING\] payments-api instances run an old revision/m);
    expect(mail.raw).toContain("Content-Type: text/plain");
    expect(mail.raw).toContain("Content-Type: text/html");
    expect(mail.raw).toContain("What Nexus did: Nexus sent a resync command to 3 instances.");
    expect(mail.raw).toContain("Where: payments in production");
  });

  it("signs webhook bodies with HMAC-SHA256 over timestamp.body and sends the configured headers", async () => {
    await h.publish("nexus.alert.raised", raised({ fingerprint: "hook-1", labels: { namespace: "hooked" } }));
    const [req] = await hook.waitFor(1);
    expect(req!.path).toBe("/in?token=abc");
    expect(req!.headers["x-team"]).toBe("payments");
    const ts = req!.headers["x-nexus-timestamp"] as string;
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(30);
    const expected = `sha256=${createHmac("sha256", "whsec_0123456789").update(`${ts}.${req!.raw}`).digest("hex")}`;
    expect(req!.headers["x-nexus-signature"]).toBe(expected);
    expect(req!.body).toMatchObject({
      version: "1",
      receiver: "hook",
      status: "firing",
      alerts: [expect.objectContaining({ fingerprint: "hook-1", status: "firing" })],
    });
  });

  it("sends config.changed only to receivers whose route subscribes to it", async () => {
    const before = hook.requests.length;
    const mailsBefore = smtp.mails.length;
    await h.publish("nexus.config.changed", {
      schemaVersion: 1,
      namespace: "payments",
      environment: "staging",
      revision: 4,
      previousRevision: 3,
      hash: "a".repeat(64),
      previousHash: "b".repeat(64),
      layer: "staging",
      changedPaths: ["/db/pool"],
      trigger: "write",
      actor: "alice",
      source: "api",
    });
    const [req] = (await hook.waitFor(before + 1)).slice(before);
    expect((req!.body as { title: string }).title).toBe(
      "[NOTICE] Configuration of payments changed in staging (revision 4)",
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(smtp.mails.length).toBe(mailsBefore);
  });
});

describe("outbound safety", () => {
  let h: Harness;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    // No allow-list: loopback is refused, as in production.
    [h, hook] = await Promise.all([
      startNotifier({
        outbound: { allowHttp: true, allowAddresses: [], timeoutMs: 1_000, maxResponseBytes: 1024 },
      }),
      startReceiver(),
    ]);
  });
  afterAll(async () => {
    await h.close();
    await hook.close();
  });

  it("refuses literal private, loopback and metadata addresses when the receiver is saved", async () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data",
      "http://10.0.0.5/hook",
      "http://[::1]:8080/",
      hook.url,
    ]) {
      const res = await h.call("PUT", "/v1/receivers/bad", { name: "bad", type: "webhook", url });
      expect(res.status, url).toBe(422);
      expect(res.body.error.field).toBe("receivers.0.url");
      expect(JSON.stringify(res.body)).not.toContain("meta-data");
    }
  });

  it("refuses an SMTP host that is a literal private, loopback or metadata address when the receiver is saved", async () => {
    for (const host of [
      "127.0.0.1",
      "10.1.2.3",
      "169.254.169.254",
      "::1",
      "[::ffff:127.0.0.1]",
      "localhost",
    ]) {
      const res = await h.call("PUT", "/v1/receivers/mail", {
        name: "mail",
        type: "email",
        to: ["oncall@example.com"],
        from: "nexus@example.com",
        smtp: { host, port: 25 },
      });
      expect(res.status, host).toBe(422);
      expect(res.body.error.field).toBe("receivers.0.smtp.host");
      expect(res.body.error.message).toMatch(/^receiver mail: /);
    }
    // A host name is checked after DNS, when connecting: saving it is fine.
    const named = await h.call("PUT", "/v1/receivers/mail", {
      name: "mail",
      type: "email",
      to: ["oncall@example.com"],
      from: "nexus@example.com",
      smtp: { host: "smtp.example.com", port: 25 },
    });
    expect(named.status).toBe(200);
  });

  it("refuses http:// unless allowed", async () => {
    const strict = await startNotifier({
      outbound: { allowHttp: false, allowAddresses: [], timeoutMs: 1_000, maxResponseBytes: 1024 },
    });
    try {
      const res = await strict.call("PUT", "/v1/receivers/plain", {
        name: "plain",
        type: "webhook",
        url: "http://hooks.example.com/x",
      });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({
        field: "receivers.0.url",
        message: "receiver plain: must be https",
      });
    } finally {
      await strict.close();
    }
  });

  it("refuses a host name that resolves to loopback at send time (checked after DNS), without retrying", async () => {
    const port = new URL(hook.url).port;
    const res = await h.call("PUT", "/v1/routing", {
      route: { receiver: "sneaky", groupWaitMs: 0 },
      receivers: [{ name: "sneaky", type: "webhook", url: `http://${hostname()}:${port}/hook` }],
    });
    expect(res.status).toBe(200);
    await h.publish("nexus.alert.raised", raised({ fingerprint: "ssrf-1" }));
    const dead = await h.until(async () => (await h.call("GET", "/v1/deliveries?status=dead")).body.items[0]);
    expect(dead.deadReason).toMatch(/refused: .* is loopback/);
    expect(dead.attempts).toBe(1);
    expect(hook.requests).toHaveLength(0);
  });
});
