import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyMergePatch,
  canonicalJson,
  changedPaths,
  cloneJson,
  contentHash,
  deepFreeze,
  deepMerge,
  deepMergeShared,
  diffDocuments,
  isPlainObject,
  jsonEqual,
  parsePointer,
  toPointer,
} from "../../src/documents/document-fns.js";

/** JSON objects (no undefined, no -0, finite numbers) for property tests. */
const jsonValue = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const jsonObject = fc.dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 6 });

/** The same object with its keys (recursively) in another order. */
function permute(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => permute(v, seed));
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    const shuffled = keys
      .map((k, i) => ({ k, r: Math.sin(seed * 9301 + i * 49297) }))
      .sort((a, b) => a.r - b.r)
      .map((x) => x.k);
    const out: Record<string, unknown> = {};
    for (const k of shuffled)
      Object.defineProperty(out, k, {
        value: permute(value[k], seed + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

describe("canonicalJson / contentHash", () => {
  it("sorts keys and uses the RFC 8785 number form", () => {
    expect(canonicalJson({ b: 1, a: [true, null, 1e21, 0.1], c: { z: "x", y: "é" } })).toBe(
      '{"a":[true,null,1e+21,0.1],"b":1,"c":{"y":"é","z":"x"}}',
    );
  });

  it("is a hex sha256 independent of key order", () => {
    const a = contentHash({ x: 1, y: { b: 2, a: 1 } });
    const b = contentHash({ y: { a: 1, b: 2 }, x: 1 });
    expect(a).toMatch(/^[a-f0-9]{64}$/);
    expect(a).toBe(b);
    expect(contentHash({ x: 1 })).not.toBe(contentHash({ x: "1" }));
    // sha256 of "{}"
    expect(contentHash({})).toBe("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
  });

  it("keeps the text of deeply frozen subtrees only: a frozen object over a mutable one is walked again", () => {
    const shared = deepFreeze({ b: { c: [1, 2] }, a: "x" });
    expect(canonicalJson({ k: shared })).toBe('{"k":{"a":"x","b":{"c":[1,2]}}}');
    expect(canonicalJson({ other: 1, k: shared })).toBe('{"k":{"a":"x","b":{"c":[1,2]}},"other":1}');
    const inner = { n: 1 };
    const shallow = Object.freeze({ inner });
    expect(canonicalJson(shallow)).toBe('{"inner":{"n":1}}');
    inner.n = 2;
    expect(canonicalJson(shallow)).toBe('{"inner":{"n":2}}');
    // A walk that throws part-way leaves nothing behind for the next one.
    expect(() => canonicalJson({ a: shared, b: Number.NaN })).toThrow();
    expect(canonicalJson(deepFreeze({ z: { y: 1 } }))).toBe('{"z":{"y":1}}');
  });

  it("property: frozen or not, the same text", () => {
    fc.assert(
      fc.property(jsonObject, (doc) => {
        const text = canonicalJson(doc);
        const frozen = deepFreeze(structuredClone(doc));
        expect(canonicalJson(frozen)).toBe(text);
        expect(canonicalJson({ wrapped: frozen })).toBe(`{"wrapped":${text}}`);
      }),
    );
  });

  it("refuses values with no JSON form", () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
  });

  it("property: hash is invariant under key permutation", () => {
    fc.assert(
      fc.property(jsonObject, fc.integer(), (doc, seed) => {
        expect(contentHash(permute(doc, seed))).toBe(contentHash(doc));
      }),
    );
  });

  it("property: canonical JSON parses back to an equal value", () => {
    fc.assert(fc.property(jsonObject, (doc) => jsonEqual(JSON.parse(canonicalJson(doc)), doc)));
  });

  it("property: writes exactly what the canonicalize library writes, and refuses what it refuses", () => {
    // Beyond plain JSON too: lone surrogates, -0, NaN, undefined and functions, toJSON, boxed values.
    const oddString = fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.constantFrom("\uD800", "a\uDC00", "\uD83D\uDE00"),
    );
    const odd = fc.oneof(
      oddString,
      fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, undefined, () => 1, new Date(0)),
      fc.constantFrom(Object(1), Object("s"), { toJSON: () => "t" }, Object.create(null)),
    );
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.jsonValue({ maxDepth: 2 }),
        odd,
        fc.array(tie("value"), { maxLength: 4 }),
        fc.dictionary(oddString, tie("value"), { maxKeys: 4 }),
      ),
    }));
    const outcome = (f: () => string | undefined) => {
      try {
        return { out: f() };
      } catch {
        return { threw: true };
      }
    };
    fc.assert(
      fc.property(value, (v) => {
        const expected = outcome(() => canonicalize(v));
        const actual = outcome(() => canonicalJson(v));
        if (expected.out === undefined && !expected.threw) expect(actual).toEqual({ threw: true });
        else expect(actual).toEqual(expected);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe("deepMerge", () => {
  it("merges nested objects, overlay wins on scalars", () => {
    expect(
      deepMerge({ db: { host: "a", port: 5432 }, log: "info" }, { db: { host: "b", ssl: true }, extra: 1 }),
    ).toEqual({ db: { host: "b", port: 5432, ssl: true }, log: "info", extra: 1 });
  });

  it("replaces arrays instead of merging them", () => {
    expect(deepMerge({ hosts: ["a", "b", "c"] }, { hosts: ["z"] })).toEqual({ hosts: ["z"] });
    expect(deepMerge({ hosts: { a: 1 } }, { hosts: ["z"] })).toEqual({ hosts: ["z"] });
    expect(deepMerge({ hosts: ["z"] }, { hosts: { a: 1 } })).toEqual({ hosts: { a: 1 } });
  });

  it("deletes keys set to null in the overlay, at any depth", () => {
    expect(deepMerge({ a: 1, b: { c: 2, d: 3 } }, { a: null, b: { c: null } })).toEqual({ b: { d: 3 } });
    expect(deepMerge({ a: 1 }, { missing: null })).toEqual({ a: 1 });
  });

  it("never lets overlay nulls into the output, even in new subtrees", () => {
    expect(deepMerge({ a: 1 }, { b: { c: null, d: { e: null, f: 1 } } })).toEqual({
      a: 1,
      b: { d: { f: 1 } },
    });
    expect(deepMerge({ a: "scalar" }, { a: { x: null, y: 2 } })).toEqual({ a: { y: 2 } });
  });

  it("keeps nulls of the base and nulls inside overlay arrays", () => {
    expect(deepMerge({ a: null }, {})).toEqual({ a: null });
    expect(deepMerge({}, { list: [null, 1] })).toEqual({ list: [null, 1] });
  });

  it("does not mutate its inputs and shares no objects with them", () => {
    const base = { a: { b: [1, 2] }, c: { d: 1 } };
    const overlay = { a: { e: 1 }, c: null, f: { g: [3] } };
    const baseCopy = structuredClone(base);
    const overlayCopy = structuredClone(overlay);
    const out = deepMerge(base, overlay);
    expect(base).toEqual(baseCopy);
    expect(overlay).toEqual(overlayCopy);
    expect(out.a).not.toBe(base.a);
    expect((out.a as { b: unknown }).b).not.toBe(base.a.b);
    expect((out.f as { g: unknown }).g).not.toBe(overlay.f.g);
  });

  it("treats __proto__ and constructor as plain keys", () => {
    const overlay = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}');
    const out = deepMerge({}, overlay);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(out.constructor).toEqual({ prototype: { x: 1 } });
  });

  it("keeps base key order, then keys the overlay adds", () => {
    expect(Object.keys(deepMerge({ b: 1, a: 1 }, { c: 1, a: 2 }))).toEqual(["b", "a", "c"]);
  });

  it("property: merge(x, {}) == x and merge({}, x) == x for null-free x", () => {
    fc.assert(
      fc.property(jsonObject, (doc) => {
        expect(deepMerge(doc, {})).toEqual(doc);
      }),
    );
    // Object keys holding null are dropped (an overlay null means "delete"); nulls in arrays stay.
    const stripNulls = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(stripNulls);
      if (!isPlainObject(v)) return v;
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x);
      return out;
    };
    const nullFree = jsonObject.map((doc) => stripNulls(doc) as Record<string, unknown>);
    fc.assert(fc.property(nullFree, (doc) => jsonEqual(deepMerge({}, doc), doc)));
  });

  it("property: merge is idempotent for the same overlay", () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (base, overlay) => {
        const once = deepMerge(base, overlay);
        expect(deepMerge(once, overlay)).toEqual(once);
      }),
    );
  });
});

describe("deepMergeShared", () => {
  it("property: the same document as deepMerge, for any base and overlay", () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (base, overlay) => {
        expect(deepMergeShared(base, overlay)).toEqual(deepMerge(base, overlay));
      }),
    );
  });

  it("shares what only one side has, rebuilds objects both have and overlay objects (their nulls delete)", () => {
    const base = { a: { b: [1, 2] }, c: { d: 1 }, keep: { deep: { x: 1 } } };
    const overlay = { a: { e: 1 }, c: null, f: { g: [3], h: null }, list: [{ y: 1 }] };
    const baseCopy = structuredClone(base);
    const overlayCopy = structuredClone(overlay);
    const out = deepMergeShared(base, overlay) as Record<string, Record<string, unknown>>;
    expect(out.keep).toBe(base.keep);
    expect(out.a).not.toBe(base.a);
    expect(out.a!.b).toBe(base.a.b);
    expect(out.f).not.toBe(overlay.f);
    expect(out.f).toEqual({ g: [3] });
    expect(out.f!.g).toBe(overlay.f.g);
    expect(out.list).toBe(overlay.list);
    expect(base).toEqual(baseCopy);
    expect(overlay).toEqual(overlayCopy);
  });
});

describe("applyMergePatch (RFC 7396)", () => {
  // The examples of RFC 7396, appendix A.
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(cases)("apply(%j, %j) = %j", (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it("applies constructor / __proto__ keys as data and the rest of the patch too", () => {
    const patch = JSON.parse('{"constructor": 1, "__proto__": {"x": 1}, "after": true}');
    const out = applyMergePatch({ a: 1 }, patch) as Record<string, unknown>;
    expect(out.after).toBe(true);
    expect(out.constructor).toBe(1);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it("does not mutate its inputs", () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    applyMergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: 2 } });
  });
});

describe("diffDocuments", () => {
  it("produces RFC 6902 operations that turn one document into the other", () => {
    const from = { a: 1, b: { c: [1, 2] }, gone: true };
    const to = { a: 2, b: { c: [1, 2, 3] }, added: "x" };
    const ops = diffDocuments(from, to);
    expect(ops).toEqual(
      expect.arrayContaining([
        { op: "replace", path: "/a", value: 2 },
        { op: "remove", path: "/gone" },
        { op: "add", path: "/added", value: "x" },
        { op: "add", path: "/b/c/2", value: 3 },
      ]),
    );
    expect(ops).toHaveLength(4);
    expect(diffDocuments(from, structuredClone(from))).toEqual([]);
  });

  it("escapes / and ~ in keys", () => {
    expect(diffDocuments({}, { "a/b~c": 1 })).toEqual([{ op: "add", path: "/a~1b~0c", value: 1 }]);
  });
});

describe("changedPaths", () => {
  it("reports added, removed and changed leaves, sorted", () => {
    expect(
      changedPaths(
        { db: { host: "a", port: 1 }, log: "info", gone: 1 },
        { db: { host: "b", port: 1 }, log: "info", new: { x: 1, y: 2 } },
      ),
    ).toEqual(["/db/host", "/gone", "/new/x", "/new/y"]);
  });

  it("reports an array once, at its pointer", () => {
    expect(changedPaths({ list: [1, 2, { a: 1 }] }, { list: [1, 2, { a: 2 }] })).toEqual(["/list"]);
    expect(changedPaths({ list: [1] }, { list: [1] })).toEqual([]);
  });

  it("reports both the key and the object leaves when a key changes type", () => {
    expect(changedPaths({ a: { b: 1, c: 2 } }, { a: 5 })).toEqual(["/a", "/a/b", "/a/c"]);
    expect(changedPaths({ a: 5 }, { a: { b: 1 } })).toEqual(["/a", "/a/b"]);
  });

  it("treats empty objects as leaves", () => {
    expect(changedPaths({}, { a: {} })).toEqual(["/a"]);
    expect(changedPaths({ a: {} }, { a: { b: 1 } })).toEqual(["/a", "/a/b"]);
    expect(changedPaths({ a: {} }, { a: {} })).toEqual([]);
  });

  it("distinguishes null, missing and type changes; escapes keys", () => {
    expect(changedPaths({ a: null }, { a: 0 })).toEqual(["/a"]);
    expect(changedPaths({ a: null }, {})).toEqual(["/a"]);
    expect(changedPaths({ "x/y": 1, "t~": 1 }, { "x/y": 2, "t~": 2 })).toEqual(["/t~0", "/x~1y"]);
  });

  it("property: no changes between equal documents, and the diff is symmetric", () => {
    fc.assert(
      fc.property(jsonObject, jsonObject, (a, b) => {
        expect(changedPaths(a, cloneJson(a))).toEqual([]);
        expect(changedPaths(a, b)).toEqual(changedPaths(b, a));
      }),
    );
  });
});

describe("pointers", () => {
  it("round-trips tokens with ~ and /", () => {
    const tokens = ["a/b", "c~d", "", "0"];
    expect(toPointer(tokens)).toBe("/a~1b/c~0d//0");
    expect(parsePointer(toPointer(tokens))).toEqual(tokens);
    expect(parsePointer("")).toEqual([]);
    expect(() => parsePointer("a")).toThrow(TypeError);
  });
});
