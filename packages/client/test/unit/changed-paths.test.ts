import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { changedPaths as registryChangedPaths } from "../../../../services/config-registry/src/documents/document-fns.js";
import { changedPaths, jsonEqual } from "../../src/changed-paths.js";

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

  it("reports the key and the object's leaves when a key changes type", () => {
    expect(changedPaths({ a: { b: 1, c: 2 } }, { a: 5 })).toEqual(["/a", "/a/b", "/a/c"]);
    expect(changedPaths({ a: 5 }, { a: { b: 1 } })).toEqual(["/a", "/a/b"]);
  });

  it("treats empty objects as leaves, distinguishes null from missing, escapes keys", () => {
    expect(changedPaths({}, { a: {} })).toEqual(["/a"]);
    expect(changedPaths({ a: {} }, { a: { b: 1 } })).toEqual(["/a", "/a/b"]);
    expect(changedPaths({ a: null }, {})).toEqual(["/a"]);
    expect(changedPaths({ "x/y": 1, "t~": 1 }, { "x/y": 2, "t~": 2 })).toEqual(["/t~0", "/x~1y"]);
  });

  it("property: the same paths as the registry puts in config.changed", () => {
    const doc = fc
      .dictionary(fc.string({ maxLength: 3 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
      .map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
    fc.assert(
      fc.property(doc, doc, (a, b) => {
        expect(changedPaths(a, b)).toEqual(registryChangedPaths(a, b));
      }),
    );
  });

  it("jsonEqual ignores key order and compares arrays by position", () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });
});
