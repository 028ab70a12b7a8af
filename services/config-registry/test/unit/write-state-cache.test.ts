import { describe, expect, it } from "vitest";
import {
  createWriteStateCache,
  heldAfterCommit,
  heldFromRead,
  heldView,
} from "../../src/writes/write-state-cache.js";
import type { WriteContextRow } from "../../src/writes/write-store.js";

function row(over: Partial<WriteContextRow> = {}): WriteContextRow {
  return {
    namespace: {
      name: "ns",
      description: "",
      owners: [],
      environments: ["staging", "production"],
      variables: {},
      headRevision: 4,
      createdAt: "2026-12-07T00:00:00.000Z",
      updatedAt: "2026-12-07T00:00:00.000Z",
    },
    writeVersion: "9",
    incarnation: "2026-12-07 00:00:00.123456+00",
    layers: [
      { namespace: "ns", layer: "base", revision: 3, content: { a: 1 }, hash: "hb", updatedAt: "x" },
      { namespace: "ns", layer: "staging", revision: 4, content: { s: 1 }, hash: "hs", updatedAt: "x" },
    ],
    dependents: [],
    dependencies: new Map([["other", ["/a"]]]),
    schema: null,
    resolved: [
      { namespace: "ns", environment: "staging", revision: 4, hash: "rs", body: "{}" },
      { namespace: "ns", environment: "production", revision: 3, hash: "rp", body: "{}" },
    ],
    gitBound: [],
    ...over,
  } as WriteContextRow;
}

describe("held write state", () => {
  it("serves a base write only from a state read for a base write, an overlay write its environment's heads", () => {
    const all = heldFromRead(row(), "base");
    expect(heldView(all, "base")?.resolved).toHaveLength(2);
    expect(heldView(all, "production")?.resolved.map((h) => h.environment)).toEqual(["production"]);
    const staging = heldFromRead(row({ resolved: [row().resolved[0]!] }), "staging");
    expect(heldView(staging, "staging")?.resolved.map((h) => h.environment)).toEqual(["staging"]);
    expect(heldView(staging, "production")).toBeUndefined();
    expect(heldView(staging, "base")).toBeUndefined();
  });

  it("after a commit: the next version, the new layer head and revision, the namespace's new heads only", () => {
    const before = heldFromRead(row(), "base");
    const after = heldAfterCommit(before, {
      layer: "production",
      revision: 5,
      content: { p: 1 },
      hash: "hp",
      dependencies: new Map(),
      heads: [
        { namespace: "ns", environment: "production", revision: 5, hash: "rp2", body: '{"p":1}' },
        { namespace: "reader", environment: "production", revision: 2, hash: "x", body: "{}" },
      ],
      comparableOf: (env, hash) => (env === "production" && hash === "rp2" ? { p: 1 } : undefined),
    });
    expect(after.row.writeVersion).toBe("10");
    expect(after.row.incarnation).toBe(before.row.incarnation);
    expect(after.row.namespace.headRevision).toBe(5);
    expect(after.row.layers.find((l) => l.layer === "production")).toMatchObject({ revision: 5, hash: "hp" });
    expect(after.row.layers.find((l) => l.layer === "base")).toMatchObject({ revision: 3 });
    expect(after.row.dependencies).toEqual(new Map([["other", ["/a"]]]));
    expect(after.row.resolved.map((h) => [h.namespace, h.environment, h.hash])).toEqual([
      ["ns", "staging", "rs"],
      ["ns", "production", "rp2"],
    ]);
    expect(after.row.resolved[1]).toMatchObject({ body: null, comparable: { p: 1 } });
    expect(Object.isFrozen(after.row.layers.at(-1)!.content)).toBe(true);
    // The state it was made from is unchanged.
    expect(before.row.writeVersion).toBe("9");
    expect(before.row.layers).toHaveLength(2);
  });

  it("keeps the newer of two states of one incarnation, and forgets only the state it is told", () => {
    const cache = createWriteStateCache(2);
    const v9 = heldFromRead(row(), "base");
    const v10 = heldFromRead(row({ writeVersion: "10" }), "base");
    cache.put("ns", v10);
    cache.put("ns", v9);
    expect(cache.get("ns")).toBe(v10);
    const reborn = heldFromRead(row({ writeVersion: "1", incarnation: "later" }), "base");
    cache.put("ns", reborn);
    expect(cache.get("ns")).toBe(reborn);
    cache.forget("ns", v10);
    expect(cache.get("ns")).toBe(reborn);
    cache.forget("ns");
    expect(cache.get("ns")).toBeUndefined();
    cache.put("a", v9);
    cache.put("b", v9);
    cache.put("c", v9);
    expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([undefined, v9, v9]);
  });
});
