import { describe, expect, it } from "vitest";
import type { InstanceView } from "../../src/clients/drift-client.js";
import type { RolloutPlan } from "../../src/rollouts/rollout-types.js";
import { currentWaveOf, membersOf, wavesOf } from "../../src/rollouts/rollout-view-fns.js";

const plan = (over: Partial<RolloutPlan> = {}): RolloutPlan => ({
  runId: "r",
  pipeline: "p",
  namespace: "shop",
  environment: "production",
  holdRevision: 5,
  targetRevision: 7,
  waves: [{ labels: { zone: "a" } }, { labels: { zone: "b" } }],
  releasedWaves: 1,
  status: "active",
  ...over,
});
const inst = (
  instanceId: string,
  revision: number | null,
  over: Partial<InstanceView> = {},
): InstanceView => ({
  instanceId,
  revision,
  status: "live",
  rejected: null,
  ...over,
});
const labels = new Map([
  ["a-1", { zone: "a" }],
  ["a-2", { zone: "a" }],
  ["a-3", { zone: "a" }],
  ["b-1", { zone: "b" }],
]);

describe("rollout views", () => {
  it("marks the newest released wave of an active rollout current, none once it ended", () => {
    expect(wavesOf(plan()).map((w) => [w.released, w.current])).toEqual([
      [true, true],
      [false, false],
    ]);
    expect(currentWaveOf(plan({ releasedWaves: 0 }))).toBeNull();
    expect(currentWaveOf(plan({ status: "completed", releasedWaves: 2 }))).toBeNull();
    expect(wavesOf(plan({ status: "completed" })).every((w) => w.released && !w.current)).toBe(true);
  });

  it("gives each instance its wave, what it may run, and its state", () => {
    const members = membersOf(
      plan(),
      [
        inst("b-1", 5),
        inst("a-1", 7),
        inst("a-2", 5),
        inst("a-3", 5, { rejected: { revision: 7, reason: "bad" } }),
        inst("never-asked", 5),
        inst("gone-1", 5, { status: "gone" }),
      ],
      labels,
    );
    expect(members.map((m) => [m.instanceId, m.wave, m.state, m.targetRevision, m.ackedRevision])).toEqual([
      ["a-1", 1, "applied", 7, 7],
      ["a-2", 1, "applying", 7, 5],
      ["a-3", 1, "rejected", 7, 5],
      ["b-1", 2, "held", 5, 5],
      ["never-asked", null, "unplaced", 5, 5],
      ["gone-1", null, "unplaced", 5, 5],
    ]);
  });

  it("holds those who had not got the revision when the rollout aborted", () => {
    const [a2] = membersOf(plan({ status: "aborted" }), [inst("a-2", 5)], labels);
    expect(a2).toMatchObject({ state: "held", targetRevision: 5 });
  });
});
