import { DriftKind, FindingQuery } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { DRIFT_KINDS, FINDING_STATUSES } from "../../src/commands/drift.js";

/** `nexus drift --kind/--status` offer exactly what the drift-detector takes (the CLI loads no zod). */
describe("nexus drift's choices", () => {
  it("are the detector's finding kinds", () => {
    expect([...DRIFT_KINDS].sort()).toEqual([...DriftKind.options].sort());
  });
  it("are the statuses the findings query takes", () => {
    expect([...FINDING_STATUSES].sort()).toEqual([...FindingQuery.shape.status.unwrap().options].sort());
  });
});
