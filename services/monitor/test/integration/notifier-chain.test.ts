import type { AddressInfo } from "node:net";
import { createLogger } from "@nexus/kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness as Notifier, startNotifier } from "../../../notifier/test/integration/harness.js";
import { type ScriptedReceiver, startReceiver } from "../../../notifier/test/integration/receivers.js";
import { type Harness, startBeating, startMonitor } from "./harness.js";

/**
 * The whole path on the real servers: a service's heartbeats stop → the monitor's rule fires →
 * alert.raised on JetStream → the real notifier routes it to a webhook receiver; heartbeats back →
 * alert.resolved → the receiver hears it resolved.
 */
describe("monitor → notifier → webhook", () => {
  let notifier: Notifier;
  let h: Harness;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [notifier, hook] = await Promise.all([startNotifier(), startReceiver()]);
    await notifier.app.app.listen({ host: "127.0.0.1", port: 0 });
    const notifierUrl = `http://127.0.0.1:${(notifier.app.app.server.address() as AddressInfo).port}`;
    // The monitor accepts the notifier's issuer, so one token works on both (the dashboard passes it on).
    h = await startMonitor(
      { expectedServices: ["drift-detector"], notifierUrl },
      {
        nats: notifier.nats,
        authenticator: () =>
          notifier.issuer.authenticator(createLogger({ service: "monitor-test", level: "silent" })),
      },
    );
    const routing = await notifier.call("PUT", "/v1/routing", {
      route: { receiver: "oncall", groupWaitMs: 0, groupIntervalMs: 100 },
      receivers: [{ name: "oncall", type: "webhook", url: `${hook.url}/hook` }],
    });
    expect(routing.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await notifier?.close();
    await hook?.close();
  });

  it("pages on a service that stopped beating and says when it is back", async () => {
    const beating = await startBeating(h, "drift-detector", "d-1", 0.2);
    // The rule goes in once the monitor has heard the detector: before its first heartbeat it is
    // rightly "down", and an evaluation in between would page (and then resolve) before the test.
    for (let i = 0; ; i++) {
      const health = await h.call("GET", "/v1/health", undefined, { authorization: "" });
      if (health.body.services?.["drift-detector"] === "up") break;
      if (i > 200) throw new Error("the monitor never heard the detector's heartbeats");
      await new Promise((r) => setTimeout(r, 50));
    }
    const rules = await h.call(
      "PUT",
      "/v1/alert-rules",
      {
        rules: [
          { name: "detector-down", kind: "service_down", severity: "critical", services: ["drift-detector"] },
        ],
      },
      { authorization: `Bearer ${notifier.adminToken}` },
    );
    expect(rules.status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.requests.map((r) => JSON.stringify(r.body))).toEqual([]);
    await beating.crash();
    const [fired] = await hook.waitFor(1, 10_000);
    expect(fired?.body).toMatchObject({
      status: "firing",
      alerts: [
        expect.objectContaining({
          fingerprint: "monitor:detector-down:drift-detector",
          severity: "critical",
        }),
      ],
    });

    const back = await startBeating(h, "drift-detector", "d-1", 0.2);
    const requests = await hook.waitFor(2, 10_000);
    expect(requests[1]?.body).toMatchObject({
      status: "resolved",
      alerts: [
        expect.objectContaining({ fingerprint: "monitor:detector-down:drift-detector", status: "resolved" }),
      ],
    });
    await back.stop();
  });

  it("shows the notifier's recent notifications and silences on the dashboard, as the user may see them", async () => {
    const silence = await notifier.call("POST", "/v1/silences", {
      matchers: [{ label: "service", op: "=", value: "orchestrator" }],
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      comment: "migration tonight",
    });
    expect(silence.status).toBe(201);
    const admin = { authorization: `Bearer ${notifier.adminToken}` };
    const state = await h.call("GET", "/v1/dashboard/state", undefined, admin);
    expect(state.status).toBe(200);
    expect(state.body.notifications.length).toBeGreaterThanOrEqual(2);
    expect(state.body.notifications[0]).toMatchObject({ receiver: "oncall", status: "delivered" });
    expect(state.body.notifications.map((n: { title: string }) => n.title).join("\n")).toContain(
      "drift-detector",
    );
    expect(state.body.silences).toEqual([
      expect.objectContaining({
        matchers: [{ label: "service", op: "=", value: "orchestrator" }],
        comment: "migration tonight",
        createdBy: "tester",
      }),
    ]);
    // The notifier refuses its history to a token scoped to some namespaces: not shown, not an error.
    const scoped = await notifier.issuer.token(["viewer:pay-*:*"], { subject: "pat" });
    const limited = await h.call("GET", "/v1/dashboard/state", undefined, {
      authorization: `Bearer ${scoped}`,
    });
    expect(limited.status).toBe(200);
    expect(limited.body).toMatchObject({ notifications: null, silences: null });
  });
});
