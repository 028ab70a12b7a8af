import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inhibitedBy, type Member, planFlush, silencedBy } from "../../src/alerts/grouping-fns.js";

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);
const base = {
  lastNotifiedAt: null,
  lastState: "",
  groupIntervalMs: 60_000,
  repeatIntervalMs: 3_600_000,
  sendResolved: true,
  now: t0,
};
const m = (
  fingerprint: string,
  status: Member["status"],
  notifiedStatus: string | null = null,
  muted = false,
): Member => ({
  fingerprint,
  status,
  notifiedStatus,
  muted,
});

describe("planFlush", () => {
  it("notifies new firing alerts, then stays quiet while nothing changes (dedup)", () => {
    const first = planFlush({ ...base, members: [m("a", "firing"), m("b", "firing")] });
    expect(first).toMatchObject({ notify: true, firing: ["a", "b"], resolved: [] });
    const again = planFlush({
      ...base,
      members: [m("a", "firing", "firing"), m("b", "firing", "firing")],
      lastNotifiedAt: t0,
      lastState: first.state,
      now: at(60_000),
    });
    expect(again.notify).toBe(false);
    expect(again.nextFlushAt).toEqual(at(120_000));
  });

  it("repeats an unchanged firing group after the repeat interval", () => {
    const members = [m("a", "firing", "firing")];
    const p = planFlush({ ...base, members, lastNotifiedAt: t0, lastState: "a|", now: at(3_600_000) });
    expect(p.notify).toBe(true);
  });

  it("reports a resolve only to receivers that heard it firing and want resolves, then drops it", () => {
    const told = planFlush({
      ...base,
      members: [m("a", "resolved", "firing")],
      lastNotifiedAt: t0,
      lastState: "a|",
    });
    expect(told).toMatchObject({ notify: true, resolved: ["a"], drop: ["a"], nextFlushAt: null });
    const untold = planFlush({ ...base, members: [m("a", "resolved", null)] });
    expect(untold).toMatchObject({ notify: false, drop: ["a"] });
    const noResolved = planFlush({
      ...base,
      sendResolved: false,
      members: [m("a", "resolved", "firing")],
      lastNotifiedAt: t0,
      lastState: "a|",
    });
    expect(noResolved.notify).toBe(false);
  });

  it("leaves muted alerts out and sends a notice once", () => {
    expect(planFlush({ ...base, members: [m("a", "firing", null, true)] }).notify).toBe(false);
    const n = planFlush({ ...base, members: [m("n", "notice")] });
    expect(n).toMatchObject({ notify: true, notices: ["n"], drop: ["n"], nextFlushAt: null });
  });

  it("never notifies twice for the same state without the repeat interval passing", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 3_599_999 }),
        (fps, later) => {
          const first = planFlush({ ...base, members: fps.map((f) => m(f, "firing")) });
          const second = planFlush({
            ...base,
            members: fps.map((f) => m(f, "firing", "firing")),
            lastNotifiedAt: t0,
            lastState: first.state,
            now: at(later),
          });
          expect(first.notify).toBe(true);
          expect(second.notify).toBe(false);
        },
      ),
    );
  });
});

describe("inhibition", () => {
  const rules = [
    {
      sourceMatchers: [{ label: "severity", op: "=" as const, value: "critical" }],
      targetMatchers: [{ label: "severity", op: "=" as const, value: "warning" }],
      equal: ["namespace"],
    },
  ];
  const crit = {
    fingerprint: "c",
    status: "firing" as const,
    labels: { severity: "critical", namespace: "pay" },
  };
  it("a critical alert for a namespace mutes its warnings, not other namespaces'", () => {
    expect(
      inhibitedBy(
        { fingerprint: "w", status: "firing", labels: { severity: "warning", namespace: "pay" } },
        [crit],
        rules,
      ),
    ).toEqual({
      rule: 0,
      source: "c",
    });
    expect(
      inhibitedBy(
        { fingerprint: "w", status: "firing", labels: { severity: "warning", namespace: "orders" } },
        [crit],
        rules,
      ),
    ).toBeNull();
    expect(inhibitedBy(crit, [crit], rules)).toBeNull();
  });
});

describe("silences", () => {
  it("mute matching labels only between start and end", () => {
    const s = [
      {
        id: "s1",
        matchers: [{ label: "namespace", op: "=" as const, value: "pay" }],
        startsAt: at(1000),
        endsAt: at(2000),
      },
    ];
    expect(silencedBy({ namespace: "pay" }, s, at(500))).toBeNull();
    expect(silencedBy({ namespace: "pay" }, s, at(1500))).toBe("s1");
    expect(silencedBy({ namespace: "orders" }, s, at(1500))).toBeNull();
    expect(silencedBy({ namespace: "pay" }, s, at(2000))).toBeNull();
  });
});
