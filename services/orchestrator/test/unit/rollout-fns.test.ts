import { describe, expect, it } from "vitest";
import { percentileOf, targetFor, waveOf, waveProgress } from "../../src/rollouts/rollout-fns.js";
import type { RolloutPlan } from "../../src/rollouts/rollout-types.js";

const plan = (over: Partial<RolloutPlan> = {}): RolloutPlan => ({
  runId: "00000000-0000-4000-8000-000000000001",
  pipeline: "p",
  namespace: "shop",
  environment: "production",
  holdRevision: 10,
  targetRevision: 12,
  waves: [{ labels: { zone: "a" } }, { percent: 50 }],
  releasedWaves: 1,
  status: "active",
  ...over,
});

describe("rollout waves", () => {
  it("places an instance by a stable percentile, cumulative percentages and labels", () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `host:${i}`);
    expect(ids.map(percentileOf)).toEqual(ids.map(percentileOf));
    const under25 = ids.filter((id) => percentileOf(id) < 25).length;
    expect(under25).toBeGreaterThan(400);
    expect(under25).toBeLessThan(600);
    const waves = [{ percent: 25 }, { percent: 100 }];
    for (const id of ids.slice(0, 50))
      expect(waveOf(waves, { instanceId: id, labels: {} })).toBe(percentileOf(id) < 25 ? 1 : 2);
    expect(waveOf([{ labels: { zone: "a" } }], { instanceId: "x", labels: { zone: "a", k: "v" } })).toBe(1);
    expect(waveOf([{ labels: { zone: "a" } }], { instanceId: "x", labels: { zone: "b" } })).toBeNull();
    expect(waveOf([{ labels: { zone: "a" } }], { instanceId: "x", labels: undefined })).toBe("unknown");
  });

  it("holds revisions past the hold revision until the wave is released", () => {
    const a = { instanceId: "a", labels: { zone: "a" } };
    const b = { instanceId: "zz-not-in-half", labels: { zone: "b" } };
    const far = Array.from({ length: 100 }, (_, i) => `i${i}`).find((id) => percentileOf(id) >= 50)!;
    const outside = { instanceId: far, labels: {} };
    expect(targetFor(null, b, 12)).toEqual({ decision: "apply" });
    expect(targetFor(plan(), a, 12)).toEqual({ decision: "apply" });
    expect(targetFor(plan(), outside, 10)).toEqual({ decision: "apply" });
    expect(targetFor(plan(), outside, 12)).toEqual({
      decision: "hold",
      holdRevision: 10,
      wave: null,
      releasedWaves: 1,
    });
    expect(targetFor(plan({ status: "completed" }), outside, 12)).toEqual({ decision: "apply" });
    // Aborted: the rolled-out revision stays held; the rollback's (newer) is applied.
    expect(targetFor(plan({ status: "aborted" }), outside, 12).decision).toBe("hold");
    expect(targetFor(plan({ status: "aborted" }), outside, 13)).toEqual({ decision: "apply" });
    expect(targetFor(plan({ status: "aborted", targetRevision: null }), outside, 12)).toEqual({
      decision: "apply",
    });
  });

  it("counts the released waves' live instances, rejections, unplaced and early ones", () => {
    const waves = [{ labels: { zone: "a" } }, { labels: { zone: "b" } }];
    const inst = (
      instanceId: string,
      revision: number,
      labels?: Record<string, string>,
      status = "live",
    ) => ({
      instanceId,
      revision,
      status,
      rejected: null,
      labels,
    });
    const p = waveProgress(
      waves,
      1,
      [
        inst("a1", 12, { zone: "a" }),
        inst("a2", 10, { zone: "a" }),
        { ...inst("a3", 10, { zone: "a" }), rejected: { revision: 12, reason: "no" } },
        inst("a4", 10, { zone: "a" }, "gone"),
        inst("b1", 10, { zone: "b" }),
        inst("b2", 12, { zone: "b" }),
        inst("u1", 10),
        inst("u2", 12),
      ],
      12,
    );
    expect(p).toEqual({
      members: 3,
      applied: 1,
      rejected: [{ instanceId: "a3", reason: "no" }],
      unplaced: 1,
      early: 1,
    });
  });
});
