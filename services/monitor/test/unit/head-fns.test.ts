import { describe, expect, it } from "vitest";
import { type ConfigHead, newestPerCell } from "../../src/heads/head-store.js";

const head = (namespace: string, revision: number, changedAt: string): ConfigHead => ({
  namespace,
  environment: "production",
  revision,
  hash: `h${revision}`,
  actor: "alice",
  source: "api",
  changedAt,
});

describe("newestPerCell", () => {
  it("keeps one head per namespace and environment: the highest revision, then the latest time", () => {
    const cells = newestPerCell([
      head("shop", 3, "2026-01-01T00:00:02Z"),
      head("shop", 5, "2026-01-01T00:00:01Z"),
      head("shop", 4, "2026-01-01T00:00:09Z"),
      head("pay", 2, "2026-01-01T00:00:01Z"),
      head("pay", 2, "2026-01-01T00:00:03Z"),
    ]);
    expect(cells.map((c) => [c.namespace, c.revision, c.changedAt])).toEqual([
      ["shop", 5, "2026-01-01T00:00:01Z"],
      ["pay", 2, "2026-01-01T00:00:03Z"],
    ]);
  });
});
