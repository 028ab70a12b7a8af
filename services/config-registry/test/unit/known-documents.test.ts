import { describe, expect, it } from "vitest";
import { createKnownDocuments, knownKey, newestKeys } from "../../src/resolve/known-documents.js";
import { referencedNamespaces } from "../../src/resolve/resolved-fns.js";

describe("known documents", () => {
  it("names only the newest key per layer or environment to a readers' read", () => {
    const known = createKnownDocuments();
    for (const hash of ["p1", "p2", "p3"]) known.rememberResolved("r", "production", hash, { v: hash });
    known.rememberResolved("r", "staging", "s1", { v: 1 });
    known.rememberResolved("r", "production", "p2", { v: "p2" }); // remembered again: newest now
    expect(newestKeys(known.snapshot("r").resolved).sort()).toEqual(["production:p2", "staging:s1"]);
    expect(newestKeys(new Map())).toEqual([]);
  });

  it("keeps layer contents and resolutions per namespace, frozen, by name and hash", () => {
    const known = createKnownDocuments();
    const content = { db: { host: "a" }, list: [1, { x: 2 }] };
    known.rememberLayer("shop", "base", "h1", content);
    known.rememberResolved("shop", "production", "r1", { db: { host: "a" } });
    const snap = known.snapshot("shop");
    expect(snap.layers.get(knownKey("base", "h1"))).toBe(content);
    expect(snap.resolved.get(knownKey("production", "r1"))).toEqual({ db: { host: "a" } });
    expect(Object.isFrozen(content.db) && Object.isFrozen(content.list[1])).toBe(true);
    expect(() => {
      (content.db as { host: string }).host = "b";
    }).toThrow(TypeError);
    expect(known.snapshot("other").layers.size).toBe(0);
  });

  it("gives a snapshot that later changes cannot empty", () => {
    const known = createKnownDocuments();
    known.rememberLayer("shop", "base", "h1", { a: 1 });
    const snap = known.snapshot("shop");
    known.forget("shop");
    for (let i = 0; i < 40; i++) known.rememberLayer("shop", "base", `h${i + 2}`, { a: i });
    expect(snap.layers.get(knownKey("base", "h1"))).toEqual({ a: 1 });
    expect(known.snapshot("shop").layers.has(knownKey("base", "h1"))).toBe(false);
  });

  it("keeps a bounded number of entries per namespace and of namespaces", () => {
    const known = createKnownDocuments(3);
    for (let i = 0; i < 40; i++) known.rememberLayer("shop", "base", `h${i}`, { a: i });
    const layers = known.snapshot("shop").layers;
    expect(layers.size).toBe(16);
    expect(layers.has(knownKey("base", "h39")) && !layers.has(knownKey("base", "h0"))).toBe(true);
    for (const ns of ["a", "b", "c", "d"]) known.rememberLayer(ns, "base", "h", {});
    expect(known.snapshot("shop").layers.size).toBe(0); // the least recently written went first
    expect(known.snapshot("d").layers.size).toBe(1);
  });

  it("does not keep layer contents that hold secrets", () => {
    const known = createKnownDocuments();
    known.rememberLayer("shop", "base", "h1", { db: { password: { $secret: { v: 1, ct: "x" } } } });
    expect(known.snapshot("shop").layers.size).toBe(0);
  });

  it("scans a kept document for cross-namespace references once, and a live one every time", () => {
    const live: Record<string, unknown> = { a: "${ref:billing:x}" };
    expect(referencedNamespaces(live)).toEqual(["billing"]);
    live.b = "${ref:users:y}";
    expect(referencedNamespaces(live)).toEqual(["billing", "users"]);
    const kept = createKnownDocuments();
    const frozen = { a: "${ref:billing:x}" };
    kept.rememberLayer("shop", "base", "h", frozen);
    expect(referencedNamespaces(frozen)).toBe(referencedNamespaces(frozen));
  });
});
