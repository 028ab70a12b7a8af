import { describe, expect, it } from "vitest";
import { offsetOf, renderTimeline } from "../../src/output/timeline-fns.js";

describe("nexus trace output", () => {
  it("gives offsets from the write in seconds, then minutes", () => {
    expect(offsetOf(0)).toBe("+0.000s");
    expect(offsetOf(1234)).toBe("+1.234s");
    expect(offsetOf(184_500)).toBe("+3m04.5s");
  });

  it("prints a header, one aligned line per step, and what could not be shown", () => {
    const text = renderTimeline({
      namespace: "shop",
      revision: 7,
      layer: "staging",
      author: "alice",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      steps: [
        {
          at: "2026-01-01T00:00:00.000Z",
          kind: "written",
          service: "config-registry",
          environment: null,
          instance: null,
          text: "alice wrote layer staging through api",
        },
        {
          at: "2026-01-01T00:00:00.250Z",
          kind: "applied",
          service: "shop-api",
          environment: "staging",
          instance: "a",
          text: "a (shop-api) applied it",
        },
      ],
      missing: [{ service: "notifier", reason: "403 forbidden: no" }],
    });
    expect(text.split("\n")).toEqual([
      "shop revision 7: layer staging, by alice, trace 4bf92f3577b34da6a3ce929d0e0e4736",
      "  2026-01-01 00:00:00.000    +0.000s  config-registry     written  alice wrote layer staging through api",
      "  2026-01-01 00:00:00.250    +0.250s  shop-api / staging  applied  a (shop-api) applied it",
      "  not shown: notifier (403 forbidden: no)",
    ]);
  });
});
