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
    h = await startMonitor({ expectedServices: ["drift-detector"] }, { nats: notifier.nats });
    const routing = await notifier.call("PUT", "/v1/routing", {
      route: { receiver: "oncall", groupWaitMs: 0, groupIntervalMs: 100 },
      receivers: [{ name: "oncall", type: "webhook", url: `${hook.url}/hook` }],
    });
    expect(routing.status).toBe(200);
    await h.call("PUT", "/v1/alert-rules", {
      rules: [
        { name: "detector-down", kind: "service_down", severity: "critical", services: ["drift-detector"] },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await notifier?.close();
    await hook?.close();
  });

  it("pages on a service that stopped beating and says when it is back", async () => {
    const beating = await startBeating(h, "drift-detector", "d-1", 0.2);
    await new Promise((r) => setTimeout(r, 500));
    expect(hook.requests).toHaveLength(0);
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
});
