import { describe, expect, it } from "vitest";
import {
  desiredForInstance,
  type InstanceCandidate,
  planTransitions,
  resolutionFor,
} from "../../src/findings/finding-fns.js";
import type { ActiveFinding, DesiredFinding } from "../../src/findings/finding-types.js";

const H = (c: string) => c.repeat(64);
const now = Date.parse("2026-01-01T00:10:00Z");
const base: InstanceCandidate = {
  namespace: "shop",
  environment: "production",
  instanceId: "i-1",
  service: "shop-api",
  revision: 4,
  hash: H("4"),
  rejectedRevision: null,
  rejectedHash: null,
  rejectedReason: null,
  headRevision: 5,
  headHash: H("5"),
  headChangedAt: new Date(now - 61_000),
  behindSince: null,
  knownHashes: [H("4")],
};
const kinds = (c: Partial<InstanceCandidate>, grace = 60_000) =>
  desiredForInstance({ ...base, ...c }, grace, now).map((d) => d.kind);

describe("desiredForInstance", () => {
  it("stale only after the grace period", () => {
    expect(kinds({})).toEqual(["stale"]);
    expect(kinds({}, 120_000)).toEqual([]);
    expect(kinds({ revision: 5, hash: H("5"), knownHashes: [H("5")] })).toEqual([]);
  });

  it("stays stale when a newer change comes: its grace counts from when it fell behind", () => {
    // Behind since revision 5 (61 s ago, grace over); revision 6 was published a second ago.
    const stillBehind = { headRevision: 6, headChangedAt: new Date(now - 1_000) };
    expect(kinds({ ...stillBehind, behindSince: new Date(now - 61_000) })).toEqual(["stale"]);
    // Behind only since revision 6: its grace is not over yet.
    expect(kinds({ ...stillBehind, revision: 5, behindSince: new Date(now - 1_000) })).toEqual([]);
  });

  it("same revision with an older hash of it is stale; with an unknown hash it is divergent", () => {
    expect(kinds({ revision: 5, hash: H("o"), knownHashes: [H("o"), H("5")] })).toEqual(["stale"]);
    expect(kinds({ revision: 5, hash: H("x"), knownHashes: [H("5")] })).toEqual(["divergent"]);
  });

  it("an unknown revision is never called divergent", () => {
    expect(kinds({ revision: 5, hash: H("x"), knownHashes: [] })).toEqual([]);
  });

  it("a rejected head is reported as rejected, not also as stale", () => {
    const d = desiredForInstance(
      { ...base, rejectedRevision: 5, rejectedHash: H("5"), rejectedReason: "bad port" },
      60_000,
      now,
    );
    expect(d.map((x) => x.kind)).toEqual(["rejected"]);
    expect(d[0]!.summary).toContain("bad port");
    expect(d[0]!.expected).toEqual({ revision: 5, hash: H("5") });
  });

  it("a rejection older than the running revision is no finding", () => {
    expect(kinds({ revision: 5, hash: H("5"), knownHashes: [H("5")], rejectedRevision: 4 })).toEqual([]);
  });
});

const desired = (key = "stale:shop/production/i-1"): DesiredFinding => ({
  key,
  kind: "stale",
  namespace: "shop",
  environment: "production",
  service: "shop-api",
  instanceIds: ["i-1"],
  expected: { revision: 5, hash: H("5") },
  actual: { revision: 4, hash: H("4") },
  severity: "warning",
  summary: "behind",
});
const active = (over: Partial<ActiveFinding> = {}): ActiveFinding => ({
  ...desired(),
  id: "f1",
  status: "open",
  firstSeenAt: new Date(now - 5_000),
  lastSeenAt: new Date(now - 1_000),
  resolvingSince: null,
  resolution: null,
  remediationAttempts: 0,
  lastRemediationAt: null,
  escalatedAt: null,
  ...over,
});
const opts = { now, quietMs: 10_000, touchEveryMs: 5_000 };

describe("planTransitions", () => {
  it("opens what is new, leaves an unchanged recent finding alone", () => {
    const p = planTransitions([active()], [desired(), desired("stale:shop/production/i-2")], opts);
    expect(p.open.map((d) => d.key)).toEqual(["stale:shop/production/i-2"]);
    expect(p.update).toEqual([]);
  });

  it("updates on changed content or when last seen is old", () => {
    expect(
      planTransitions([active()], [{ ...desired(), actual: { revision: 3, hash: H("3") } }], opts).update,
    ).toHaveLength(1);
    expect(
      planTransitions([active({ lastSeenAt: new Date(now - 6_000) })], [desired()], opts).update,
    ).toHaveLength(1);
  });

  it("a finding no longer true waits out the quiet period, then resolves", () => {
    expect(planTransitions([active()], [], opts).resolving).toHaveLength(1);
    const waiting = active({ status: "resolving", resolvingSince: new Date(now - 9_000) });
    expect(planTransitions([waiting], [], opts)).toMatchObject({ resolve: [], resolving: [] });
    const done = active({ status: "resolving", resolvingSince: new Date(now - 10_000) });
    expect(planTransitions([done], [], opts).resolve).toHaveLength(1);
    expect(planTransitions([active()], [], { ...opts, quietMs: 0 }).resolve).toHaveLength(1);
  });

  it("coming back during the quiet period re-opens silently (an update, not an opening)", () => {
    const p = planTransitions(
      [active({ status: "resolving", resolvingSince: new Date(now - 1_000) })],
      [desired()],
      opts,
    );
    expect(p.open).toEqual([]);
    expect(p.update).toEqual([expect.objectContaining({ reopened: true })]);
  });
});

describe("resolutionFor", () => {
  it("says why in words", () => {
    const instance = { revision: 5, hash: null, goneAt: null, rejectedRevision: null };
    expect(resolutionFor({ kind: "stale", instanceIds: ["i"] }, instance)).toBe(
      "the instance now runs revision 5",
    );
    expect(resolutionFor({ kind: "stale", instanceIds: ["i"] }, { ...instance, goneAt: new Date() })).toBe(
      "the instance went away",
    );
    expect(resolutionFor({ kind: "stale", instanceIds: ["i"] }, { ...instance, rejectedRevision: 6 })).toBe(
      "the instance rejected revision 6; a rejected finding replaces this one",
    );
    expect(resolutionFor({ kind: "stale", instanceIds: ["i"] }, { ...instance, rejectedRevision: 4 })).toBe(
      "the instance now runs revision 5",
    );
    expect(resolutionFor({ kind: "divergent", instanceIds: ["i"] }, undefined)).toMatch(/removed/);
  });
});
