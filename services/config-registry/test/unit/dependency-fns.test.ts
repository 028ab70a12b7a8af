import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyMergePatch, changedPaths } from "../../src/documents/document-fns.js";
import {
  nextDependencies,
  readersReached,
  readsOverlap,
  sameDependencies,
} from "../../src/resolve/dependency-fns.js";
import type { ResolveResult } from "../../src/resolve/resolve-fns.js";
import { type Doc, resolve } from "./resolve-helpers.js";

describe("readsOverlap", () => {
  it("reaches a reader at the pointer, under it and above it, never a sibling or a lookalike prefix", () => {
    expect(readsOverlap(["/db/host"], ["/db/host"])).toBe(true);
    expect(readsOverlap(["/db"], ["/db/host"])).toBe(true); // a child of what it reads changed
    expect(readsOverlap(["/db/host"], ["/db"])).toBe(true); // its parent was replaced
    expect(readsOverlap(["/db/host"], ["/db/port", "/unread"])).toBe(false);
    expect(readsOverlap(["/db"], ["/dbx", "/d"])).toBe(false);
    expect(readsOverlap(["/a~1b"], ["/a/b"])).toBe(false); // the key "a/b", not /a/b
    expect(readsOverlap([], ["/a"])).toBe(false);
    expect(readsOverlap(["/a"], [])).toBe(false);
  });

  it("reaches a reader whose pointers are not known on any change", () => {
    expect(readsOverlap(null, ["/anything"])).toBe(true);
  });

  it("keeps every reader when the change is not known", () => {
    const dependents = [
      { name: "a", pointers: ["/x"] },
      { name: "b", pointers: ["/y"] },
      { name: "c", pointers: null },
    ];
    expect(readersReached(dependents, undefined).map((d) => d.name)).toEqual(["a", "b", "c"]);
    expect(readersReached(dependents, ["/y/z"]).map((d) => d.name)).toEqual(["b", "c"]);
  });
});

describe("nextDependencies", () => {
  const stored = new Map<string, readonly string[] | null>([
    ["up", ["/a", "/b"]],
    ["old", ["/x"]],
    ["legacy", null],
  ]);
  const found = (entries: [string, string[]][]) => new Map(entries.map(([n, p]) => [n, new Set(p)]));

  it("stores exactly what a complete resolution read, and names what it reads anew", () => {
    const { next, grown } = nextDependencies(
      "self",
      stored,
      found([
        ["up", ["/b", "/c"]],
        ["legacy", ["/l"]],
        ["new", ["/n"]],
        ["self", ["/s"]],
      ]),
      true,
    );
    expect(next).toEqual(
      new Map([
        ["up", ["/b", "/c"]],
        ["legacy", ["/l"]],
        ["new", ["/n"]],
      ]),
    );
    // "/c" is new in up, "new" is new; legacy was read everywhere already (unknown pointers).
    expect(grown).toEqual(["new", "up"]);
  });

  it("only grows from a partial resolution, and keeps unknown pointers unknown", () => {
    const { next, grown } = nextDependencies(
      "self",
      stored,
      found([
        ["up", ["/c"]],
        ["legacy", ["/l"]],
      ]),
      false,
    );
    expect(next).toEqual(
      new Map<string, readonly string[] | null>([
        ["up", ["/a", "/b", "/c"]],
        ["old", ["/x"]],
        ["legacy", null],
      ]),
    );
    expect(grown).toEqual(["up"]);
  });

  it("changes nothing when the reads are those stored", () => {
    expect(
      nextDependencies(
        "self",
        stored,
        found([
          ["up", ["/b", "/a"]],
          ["old", ["/x"]],
        ]),
        false,
      ),
    ).toEqual({ next: null, grown: [] });
    expect(sameDependencies(stored, new Map(stored))).toBe(true);
    expect(sameDependencies(stored, new Map([...stored, ["legacy", []]]))).toBe(false);
  });
});

/**
 * The promise the fan-in filter rests on: a reader's resolution can change with an upstream
 * document only where that document changed at, above or below a pointer the resolution read.
 */
describe("property: a change that reaches none of a reader's reads leaves its resolution as it was", () => {
  const key = fc.constantFrom("a", "b", "c");
  const leaf = fc.oneof(
    fc.integer({ min: 0, max: 3 }),
    fc.constantFrom("${ref:/a}", "${ref:/b/a}", "${ref:/c/c}", "x-${ref:/a/b}", "${ref:up:b}"),
    fc.constant({}),
    fc.array(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant("${ref:/a}")), { maxLength: 2 }),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.dictionary(key, tie("tree"), { maxKeys: 3 }),
    ),
  }));
  const upstream = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 3 });
  const patch = fc.dictionary(key, fc.oneof(tree, fc.constant(null)), { maxKeys: 2 });
  const reader = fc.dictionary(
    key,
    fc.constantFrom(
      "${ref:up:a}",
      "${ref:up:b.a}",
      "${ref:up:c.b.c}",
      "n=${ref:up:a.a}",
      "${ref:up:/c}",
      "${ref:up:b[0]}",
      "${ref:up:c.a[1]}",
    ),
    { minKeys: 1, maxKeys: 3 },
  );

  const attempt = (doc: Doc, up: Doc): ResolveResult | undefined => {
    try {
      return resolve(doc, { namespaces: { up: { doc: up } } });
    } catch {
      return undefined;
    }
  };

  it("holds for random upstreams, readers and merge patches", () => {
    let skipped = 0;
    fc.assert(
      fc.property(upstream, reader, fc.dictionary(key, patch, { maxKeys: 2 }), (up, doc, nested) => {
        const before = attempt(doc, up);
        if (!before) return; // the reader cannot be stored against this upstream anyway
        const after = applyMergePatch(up, { ...nested }) as Doc;
        const changed = changedPaths(up, after);
        if (readsOverlap(before.reads.get("up") ?? [], changed)) return;
        skipped++;
        expect(attempt(doc, after)).toEqual(before);
      }),
      { numRuns: 3000 },
    );
    expect(skipped).toBeGreaterThan(100);
  });
});
