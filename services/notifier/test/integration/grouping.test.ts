import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, raised, startNotifier } from "./harness.js";
import { type ScriptedReceiver, startReceiver } from "./receivers.js";

type Hook = {
  alerts: { fingerprint: string; status: string }[];
  groupLabels: Record<string, string>;
  title: string;
};
const fps = (r: { body: unknown }) =>
  (r.body as Hook).alerts.map((a) => `${a.fingerprint}:${a.status}`).sort();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("grouping, dedup, inhibition and silences", () => {
  let h: Harness;
  let hook: ScriptedReceiver;

  beforeAll(async () => {
    [h, hook] = await Promise.all([startNotifier(), startReceiver()]);
    const res = await h.call("PUT", "/v1/routing", {
      route: {
        receiver: "hook",
        groupBy: ["namespace"],
        groupWaitMs: 400,
        groupIntervalMs: 300,
        repeatIntervalMs: 3_600_000,
      },
      receivers: [{ name: "hook", type: "webhook", url: `${hook.url}/hook` }],
      inhibitRules: [
        {
          sourceMatchers: [{ label: "severity", op: "=", value: "critical" }],
          targetMatchers: [{ label: "severity", op: "=", value: "warning" }],
          equal: ["namespace"],
        },
      ],
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
    await hook.close();
  });

  it("groups alerts of one namespace that arrive within group_wait into one message, and dedups repeats", async () => {
    for (const fp of ["g-a", "g-b", "g-c"]) {
      await h.publish(
        "nexus.alert.raised",
        raised({ fingerprint: fp, severity: "error", labels: { namespace: "orders" } }),
      );
    }
    // The same alert again, twice: counted, not sent again.
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "g-a", severity: "error", labels: { namespace: "orders" } }),
    );
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "g-a", severity: "error", labels: { namespace: "orders" } }),
    );
    const [first] = await hook.waitFor(1);
    expect(fps(first!)).toEqual(["g-a:firing", "g-b:firing", "g-c:firing"]);
    expect((first!.body as Hook).groupLabels).toEqual({ namespace: "orders" });
    await sleep(900); // several group intervals: nothing new to say
    expect(hook.requests).toHaveLength(1);
    const alert = await h.call("GET", "/v1/alerts/g-a");
    expect(alert.body.alert.receivedCount).toBe(3);
  });

  it("a critical alert for a namespace mutes its warnings", async () => {
    const before = hook.requests.length;
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "i-crit", severity: "critical", labels: { namespace: "billing" } }),
    );
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "i-warn", severity: "warning", labels: { namespace: "billing" } }),
    );
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "i-other", severity: "warning", labels: { namespace: "search" } }),
    );
    await hook.waitFor(before + 2);
    await sleep(700);
    const sent = hook.requests.slice(before).flatMap(fps).sort();
    expect(sent).toEqual(["i-crit:firing", "i-other:firing"]);
    const history = await h.call("GET", "/v1/alerts/i-warn");
    expect(history.body.history.map((e: { kind: string }) => e.kind)).toContain("muted");
    expect(history.body.history.find((e: { kind: string }) => e.kind === "muted").detail).toMatchObject({
      inhibitedBy: "i-crit",
    });
  });

  it("silences mute matching alerts until they end, then the alert is told", async () => {
    const silence = await h.call("POST", "/v1/silences", {
      matchers: [{ label: "namespace", op: "=", value: "quiet" }],
      endsAt: new Date(Date.now() + 60_000).toISOString(),
      comment: "maintenance window",
    });
    expect(silence.status).toBe(201);
    expect(silence.body).toMatchObject({
      createdBy: "tester",
      state: "active",
      comment: "maintenance window",
    });
    const before = hook.requests.length;
    await h.publish(
      "nexus.alert.raised",
      raised({ fingerprint: "s-1", severity: "error", labels: { namespace: "quiet" } }),
    );
    await h.until(async () =>
      (await h.call("GET", "/v1/alerts/s-1")).body?.history?.some(
        (e: { kind: string }) => e.kind === "muted",
      ),
    );
    await sleep(600);
    expect(hook.requests.length).toBe(before);

    const expired = await h.call("DELETE", `/v1/silences/${silence.body.id}`);
    expect(expired.body).toMatchObject({ state: "expired", expiredBy: "tester" });
    const [after] = (await hook.waitFor(before + 1)).slice(before);
    expect(fps(after!)).toEqual(["s-1:firing"]);
  });

  it("refuses a silence that ends before it starts, naming the field", async () => {
    const res = await h.call("POST", "/v1/silences", {
      matchers: [{ label: "namespace", op: "=", value: "x" }],
      startsAt: new Date(Date.now() + 60_000).toISOString(),
      endsAt: new Date(Date.now() + 1_000).toISOString(),
      comment: "wrong",
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "invalid_silence", field: "endsAt" });
  });

  it("tells the group when an alert resolves (paired with its raise), once", async () => {
    const before = hook.requests.length;
    await h.publish("nexus.alert.resolved", {
      ...raised({ fingerprint: "g-b", severity: "error", labels: { namespace: "orders" } }),
      endsAt: new Date().toISOString(),
    });
    const [msg] = (await hook.waitFor(before + 1)).slice(before);
    expect(fps(msg!)).toEqual(["g-a:firing", "g-b:resolved", "g-c:firing"]);
    await sleep(700);
    expect(hook.requests.length).toBe(before + 1);
  });

  it("consumes drift findings as alerts: drift.detected fires, drift.resolved resolves the same fingerprint", async () => {
    const finding = {
      schemaVersion: 1 as const,
      findingId: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
      kind: "stale" as const,
      namespace: "drifty",
      environment: "production",
      service: "drifty-api",
      instanceIds: ["pod-7"],
      expected: { revision: 7, hash: null },
      actual: { revision: 6, hash: null },
      severity: "warning" as const,
      firstSeenAt: "2026-01-01T00:00:00.000Z",
      lastSeenAt: "2026-01-01T00:05:00.000Z",
      summary: "pod-7 of drifty-api still runs revision 6 in production",
    };
    const before = hook.requests.length;
    await h.publish("nexus.drift.detected", finding);
    const [fired] = (await hook.waitFor(before + 1)).slice(before);
    expect(fps(fired!)).toEqual([`drift:${finding.findingId}:firing`]);
    expect((fired!.body as Hook).title).toBe(
      "[FIRING] pod-7 of drifty-api still runs revision 6 in production",
    );
    await h.publish("nexus.drift.resolved", {
      ...finding,
      resolvedAt: "2026-01-01T00:09:00.000Z",
      resolution: "pod-7 applied revision 7",
    });
    const [resolved] = (await hook.waitFor(before + 2)).slice(before + 1);
    expect(fps(resolved!)).toEqual([`drift:${finding.findingId}:resolved`]);
    expect((resolved!.body as { text: string }).text).toContain("What Nexus did: pod-7 applied revision 7");
  });
});
