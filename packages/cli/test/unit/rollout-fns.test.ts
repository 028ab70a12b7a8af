import type { RolloutDetailDto } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { progressWords, rolloutLines, selectorWords } from "../../src/commands/rollout-fns.js";

const rollout = (over: Partial<RolloutDetailDto> = {}): RolloutDetailDto => ({
  id: "r-1",
  pipeline: "to-prod",
  namespace: "shop",
  environment: "production",
  status: "active",
  holdRevision: 3,
  targetRevision: 4,
  waveCount: 2,
  releasedWaves: 1,
  createdAt: "2026-01-01T00:00:00Z",
  updatedAt: "2026-01-01T00:00:00Z",
  waves: [
    { wave: 1, selector: { labels: { zone: "a", tier: "web" } }, released: true, current: true },
    { wave: 2, selector: { percent: 100 }, released: false, current: false },
  ],
  currentWave: 1,
  members: [],
  inventoryError: null,
  ...over,
});

describe("nexus rollout in words", () => {
  it("names a wave by its share or its labels", () => {
    expect(selectorWords({ percent: 10 })).toBe("10%");
    expect(selectorWords({ labels: { zone: "a", tier: "web" } })).toBe("zone=a,tier=web");
  });

  it("says how far a rollout is, or how it ended", () => {
    expect(progressWords(rollout())).toBe("wave 1 of 2");
    expect(progressWords(rollout({ releasedWaves: 0, targetRevision: null }))).toBe("planned, 2 wave(s)");
    expect(progressWords(rollout({ status: "aborted" }))).toBe("aborted after wave 1 of 2");
    expect(progressWords(rollout({ status: "completed", releasedWaves: 2 }))).toBe("completed (2 wave(s))");
  });

  it("marks the current wave and the released ones", () => {
    expect(rolloutLines(rollout())).toEqual([
      "rollout r-1 of to-prod: shop production, revision 3 → 4, wave 1 of 2",
      "  ▶ wave 1: zone=a,tier=web (current)",
      "  · wave 2: 100%",
    ]);
  });
});
