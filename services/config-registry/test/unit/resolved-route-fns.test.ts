import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ResolvedParams, ResolvedQuery } from "../../src/resolve/resolve-types.js";
import {
  awaitedVersionOf,
  resolvedParamsCheck,
  resolvedQueryCheck,
} from "../../src/resolve/resolved-route-fns.js";

/** Names near the rules' edges: valid ones, and strings that break them in one place. */
const name = fc.oneof(
  fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/),
  fc.string({ maxLength: 70 }),
  fc.constantFrom("", "-a", "a-", "A", "a".repeat(63), "a".repeat(64), "a.b", "a*", "payments-api"),
);

describe("the resolved route's fast checks accept only what its zod schemas accept", () => {
  it("params: same value as zod whenever the fast check answers", () => {
    fc.assert(
      fc.property(
        fc.record({ ns: name, env: name }, { requiredKeys: [] }),
        fc.option(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 })),
        (base, extra) => {
          const data = { ...(extra ?? {}), ...base };
          const fast = resolvedParamsCheck(data);
          if (fast === undefined) return;
          const zod = ResolvedParams.safeParse(data);
          expect(zod.success).toBe(true);
          expect(fast.value).toEqual(zod.data);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it("query: same value as zod whenever the fast check answers", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom("explain", "other", "Explain"),
          fc.constantFrom("true", "false", "TRUE", "1", ""),
          { maxKeys: 2 },
        ),
        (data) => {
          const fast = resolvedQueryCheck(data);
          if (fast === undefined) return;
          const zod = ResolvedQuery.safeParse(data);
          expect(zod.success).toBe(true);
          expect(fast.value).toEqual(zod.data);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it("takes the common requests on the fast path", () => {
    expect(resolvedParamsCheck({ ns: "payments-api", env: "production" })).toEqual({
      value: { ns: "payments-api", env: "production" },
    });
    expect(resolvedQueryCheck({})).toEqual({ value: { explain: false } });
    expect(resolvedQueryCheck({ explain: "true" })).toEqual({ value: { explain: true } });
    expect(resolvedParamsCheck({ ns: "Payments", env: "production" })).toBeUndefined();
    expect(resolvedQueryCheck({ explain: "yes" })).toBeUndefined();
  });
});

describe("awaitedVersionOf (Nexus-Awaited)", () => {
  const hash = "ab".repeat(32);
  it("reads <revision>:<hash>, and nothing when the header is absent", () => {
    expect(awaitedVersionOf(undefined)).toBeUndefined();
    expect(awaitedVersionOf(`42:${hash}`)).toEqual({ revision: 42, hash });
    expect(awaitedVersionOf(`0:${hash}`)).toEqual({ revision: 0, hash });
  });

  it("refuses anything else with 400 invalid_header naming the header", () => {
    for (const bad of [
      "",
      "42",
      `42:${hash.slice(1)}`,
      `42:${hash.toUpperCase()}`,
      `-1:${hash}`,
      `042:${hash}`,
      `1.5:${hash}`,
      `42:${hash}:x`,
      ` 42:${hash}`,
      [`1:${hash}`, `2:${hash}`],
    ]) {
      expect(() => awaitedVersionOf(bad)).toThrow(
        expect.objectContaining({ statusCode: 400, code: "invalid_header", field: "nexus-awaited" }),
      );
    }
  });
});
