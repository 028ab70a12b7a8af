import { describe, expect, it } from "vitest";
import { traceIdOf, traceIdOfTraceparent } from "../../src/revisions/revision-fns.js";

describe("the trace id of a revision", () => {
  it("reads a W3C traceparent", () => {
    expect(traceIdOfTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
  });
  it("refuses malformed and all-zero ids", () => {
    expect(traceIdOfTraceparent("00-0000000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
    expect(traceIdOfTraceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")).toBeNull();
    expect(traceIdOfTraceparent("garbage")).toBeNull();
    expect(traceIdOfTraceparent(null)).toBeNull();
  });
  it("takes the first event that carries one", () => {
    expect(traceIdOf([null, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"])).toBe(
      "4bf92f3577b34da6a3ce929d0e0e4736",
    );
    expect(traceIdOf([])).toBeNull();
  });
});
