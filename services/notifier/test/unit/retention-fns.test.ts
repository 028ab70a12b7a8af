import { describe, expect, it } from "vitest";
import { DAY_MS, retentionCutoffs } from "../../src/retention/retention-fns.js";

describe("retentionCutoffs", () => {
  const now = new Date("2026-03-01T00:00:00.000Z");
  it("puts each cutoff its age before now", () => {
    expect(retentionCutoffs({ maxAgeMs: 90 * DAY_MS, deadLetterMaxAgeMs: 365 * DAY_MS }, now)).toEqual({
      records: new Date("2025-12-01T00:00:00.000Z"),
      deadLetters: new Date("2025-03-01T00:00:00.000Z"),
    });
  });
  it("keeps everything of a kind whose age is 0", () => {
    expect(retentionCutoffs({ maxAgeMs: 0, deadLetterMaxAgeMs: DAY_MS }, now)).toEqual({
      records: null,
      deadLetters: new Date("2026-02-28T00:00:00.000Z"),
    });
  });
});
