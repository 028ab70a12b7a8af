import { describe, expect, it } from "vitest";
import { silenceChanges } from "../../src/silences/silence-fns.js";
import type { SilenceRecord } from "../../src/silences/silence-types.js";

const base: SilenceRecord = {
  id: "s1",
  matchers: [{ label: "namespace", op: "=", value: "payments" }],
  startsAt: "2026-01-01T00:00:00.000Z",
  endsAt: "2026-01-01T01:00:00.000Z",
  createdBy: "ana",
  comment: "deploy",
  expiredBy: null,
};

describe("silenceChanges", () => {
  it("lists every set field of a new silence as changed from nothing", () => {
    expect(silenceChanges(null, base).map((c) => c.field)).toEqual([
      "matchers",
      "startsAt",
      "endsAt",
      "comment",
    ]);
  });
  it("lists only the fields that differ", () => {
    const after = { ...base, endsAt: "2026-01-01T00:30:00.000Z", expiredBy: "bo" };
    expect(silenceChanges(base, after)).toEqual([
      { field: "endsAt", from: base.endsAt, to: after.endsAt },
      { field: "expiredBy", from: null, to: "bo" },
    ]);
    expect(silenceChanges(base, { ...base })).toEqual([]);
  });
});
