import { describe, expect, it } from "vitest";
import { deltaCopySql, deltaPlan, HISTORY_TABLES } from "../../src/bundle/history-fns.js";

describe("incremental history", () => {
  it("skips what the parent held of the same incarnation, and resets deleted or re-created groups", () => {
    const parent = {
      kept: { incarnation: "t1", max: 7 },
      recreated: { incarnation: "t1", max: 3 },
      deleted: { incarnation: "t1", max: 2 },
    };
    const now = {
      kept: { incarnation: "t1", max: 9 },
      recreated: { incarnation: "t2", max: 1 },
      added: { incarnation: "t3", max: 4 },
    };
    expect(deltaPlan(parent, now)).toEqual({ skipUpTo: { kept: 7 }, resets: ["deleted", "recreated"] });
    expect(deltaPlan(undefined, now)).toEqual({ skipUpTo: {}, resets: [] });
  });

  it("reads the rows above each group's skipped number, with the numbers as one escaped literal", () => {
    const sql = deltaCopySql(
      HISTORY_TABLES[0]!,
      { columns: [{ name: "namespace", type: "text" }], orderBy: ["namespace", "revision"] },
      { "it's": 3 },
    );
    expect(sql).toContain(`"revision" > coalesce(('{"it''s":3}'::jsonb ->> "namespace")::bigint, 0)`);
    expect(sql).toContain(`FROM "config_registry"."revisions"`);
  });
});
