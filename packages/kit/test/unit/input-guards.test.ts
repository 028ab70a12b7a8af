import { describe, expect, it } from "vitest";
import type { BadRequestError } from "../../src/errors.js";
import { assertCleanValue, MAX_BODY_DEPTH } from "../../src/http/input-guards.js";

const refusal = (value: unknown, maxDepth?: number) => {
  try {
    assertCleanValue(value, maxDepth);
  } catch (err) {
    const e = err as BadRequestError;
    return { code: e.code, field: (e.details as { field?: string } | undefined)?.field ?? e.field };
  }
  return null;
};

const nested = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe("assertCleanValue (a deciding walk first, then the one that names the place)", () => {
  it("lets clean values through, including one nested exactly as deep as allowed", () => {
    expect(refusal({ a: ["x", { b: "😀", c: null, d: 1.5, e: true }], "k/~": "v" })).toBeNull();
    expect(refusal(nested(MAX_BODY_DEPTH))).toBeNull();
    expect(refusal(nested(3), 2)).toBeNull();
    expect(refusal(nested(4), 2)).toEqual({ code: "content_too_deep", field: "/a/a/a" });
  });

  it("names the place the one full walk meets first: a container's keys, then its values last to first", () => {
    const value = { a: [1, { "b/c": "x\u0000" }], constructor: 1, z: "\ud800" };
    expect(refusal(value)).toEqual({ code: "reserved_key", field: "/constructor" });
    // The walk is a stack: a container's last value is looked at first.
    expect(refusal({ a: [1, { "b/c": "x\u0000" }], z: "\ud800" })).toEqual({
      code: "invalid_character",
      field: "/z",
    });
    expect(refusal({ a: [1, { "b/c": "x\u0000" }], z: "ok" })).toEqual({
      code: "invalid_character",
      field: "/a/1/b~1c",
    });
    expect(refusal({ ok: 1, prototype: { x: "\u0000" } })).toEqual({
      code: "reserved_key",
      field: "/prototype",
    });
    expect(refusal(JSON.parse('{"x": [{"__proto__": 1}]}'))).toEqual({
      code: "reserved_key",
      field: "/x/0/__proto__",
    });
    expect(refusal({ "k\udc00": 1 })).toEqual({ code: "invalid_character", field: "/k\\udc00" });
  });
});
