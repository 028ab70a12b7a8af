import { ApiErrorBody, NAME_PATTERN as CONTRACT_NAME_PATTERN } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { ApiErrorBodySpec, NamespacePageSpec, ResolvedSpec } from "../../src/api-types.js";
import { NAME_PATTERN } from "../../src/commands/args.js";
import { mismatch } from "../../src/shape-fns.js";

describe("mismatch", () => {
  it("accepts what matches, extra keys included", () => {
    expect(mismatch({ a: "x", b: 1, extra: true }, { a: "string", b: "number" })).toBeUndefined();
    expect(mismatch([{ a: 1 }, { a: 2 }], [{ a: "number" }])).toBeUndefined();
    expect(mismatch({ a: null }, { a: "string|null" })).toBeUndefined();
    expect(mismatch({}, { "a?": "string" })).toBeUndefined();
  });

  it("names the first place that differs", () => {
    expect(mismatch({ items: [{ n: 1 }, { n: "2" }] }, { items: [{ n: "number" }] })).toBe(
      "items[1].n: expected number, got string",
    );
    expect(mismatch({ a: {} }, { a: { b: "string" } })).toBe("a.b: missing");
    expect(mismatch("<html>", { a: "string" })).toBe("body: expected object, got string");
    expect(mismatch({ a: "x" }, { "a?": "number" })).toBe("a: expected number, got string");
    expect(mismatch({ a: Number.NaN }, { a: "number" })).toBe("a: expected number, got number");
    expect(mismatch({ a: [] }, { a: "object" })).toBe("a: expected object, got array");
  });

  it("checks real registry bodies", () => {
    const resolved = { namespace: "s", environment: "p", revision: 1, hash: "h", content: {} };
    expect(mismatch(resolved, ResolvedSpec)).toBeUndefined();
    expect(mismatch({ ...resolved, revision: "1" }, ResolvedSpec)).toContain("revision");
    expect(mismatch({ items: [], next: null }, NamespacePageSpec)).toBeUndefined();
  });
});

describe("agreement with @nexus/contracts", () => {
  it("uses the contract's name pattern", () => {
    expect(NAME_PATTERN.source).toBe(CONTRACT_NAME_PATTERN.source);
    expect(NAME_PATTERN.flags).toBe(CONTRACT_NAME_PATTERN.flags);
  });

  it.each([
    [{ error: { code: "c", message: "m", requestId: "r" } }, true, true],
    [{ error: { code: "c", message: "m", field: "/a", details: { x: 1 }, requestId: "r" } }, true, true],
    [{ error: { code: "c", requestId: "r" } }, false, false],
    [{ error: { code: 1, message: "m", requestId: "r" } }, false, false],
    [{ message: "m" }, false, false],
    // Lenient only about requestId, which the CLI prints when present.
    [{ error: { code: "c", message: "m" } }, false, true],
  ])("error body %j: contract accepts %s, CLI accepts %s", (body, contractOk, cliOk) => {
    expect(ApiErrorBody.safeParse(body).success).toBe(contractOk);
    expect(mismatch(body, ApiErrorBodySpec) === undefined).toBe(cliOk);
  });
});
