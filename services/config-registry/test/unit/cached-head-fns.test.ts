import { describe, expect, it } from "vitest";
import { committedLater, decodeCachedHead, encodeCachedHead } from "../../src/resolve/resolved-fns.js";

const head = {
  namespace: "orders",
  environment: "staging",
  revision: 12,
  version: 9_007,
  hash: "abc",
  body: '{"a":"b c"}',
};

describe("cached resolved heads", () => {
  it("round-trips a head through its Redis form, the body's spaces included", () => {
    const raw = encodeCachedHead(head);
    expect(raw).toBe('12:9007 abc {"a":"b c"}');
    expect(decodeCachedHead("orders", "staging", raw)).toEqual(head);
  });

  it("reads the form of instances from before versions, and refuses what is not a cached head", () => {
    expect(decodeCachedHead("orders", "staging", '12 abc {"a":1}')).toEqual({
      namespace: "orders",
      environment: "staging",
      revision: 12,
      hash: "abc",
      body: '{"a":1}',
    });
    expect(decodeCachedHead("orders", "staging", "garbage")).toBeNull();
    expect(decodeCachedHead("orders", "staging", "x:y abc {}")).toBeNull();
  });

  it("orders by version when both have one, by revision otherwise", () => {
    expect(committedLater({ revision: 3, version: 20 }, { revision: 3, version: 19 })).toBe(true);
    expect(committedLater({ revision: 3, version: 19 }, { revision: 3, version: 20 })).toBe(false);
    // A recreated namespace starts at revision 1 again; its versions still move on.
    expect(committedLater({ revision: 9, version: 5 }, { revision: 1, version: 6 })).toBe(false);
    expect(committedLater({ revision: 4 }, { revision: 3, version: 6 })).toBe(true);
    expect(committedLater({ revision: 3, version: 6 }, { revision: 3 })).toBe(false);
  });
});
