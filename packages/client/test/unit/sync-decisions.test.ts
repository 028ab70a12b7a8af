import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ChangeAnnouncement,
  decideOnChange,
  decideOnFetched,
  newest,
  type Position,
  reached,
} from "../../src/sync-decisions.js";

const h = (c: string) => c.repeat(64).slice(0, 64);
const at = (revision: number, hash: string): Position => ({ revision, hash: h(hash) });
const announce = (revision: number, hash: string, previous: Position | null): ChangeAnnouncement => ({
  revision,
  hash: h(hash),
  previousRevision: previous?.revision ?? null,
  previousHash: previous?.hash ?? null,
});

describe("decideOnChange", () => {
  const held = at(5, "a");

  it("fetches a change that follows what the client knows, without calling it a gap", () => {
    expect(decideOnChange(held, held, announce(6, "b", held))).toEqual({ action: "fetch", gap: false });
  });

  it("does not call a revision jump a gap: revisions count per namespace", () => {
    // revisions 6-8 changed other environments' layers; this environment went from 5 to 9
    expect(decideOnChange(held, held, announce(9, "b", held))).toEqual({ action: "fetch", gap: false });
  });

  it("calls it a gap when the announcement's previous position is not what the client knows", () => {
    expect(decideOnChange(held, held, announce(8, "c", at(7, "b")))).toEqual({ action: "fetch", gap: true });
    // same previous revision, other previous hash: a variables change in between was missed
    expect(decideOnChange(held, held, announce(6, "c", at(5, "x")))).toEqual({ action: "fetch", gap: true });
  });

  it("fetches a variables/dependency change: same revision, new hash", () => {
    expect(decideOnChange(held, held, announce(5, "b", held))).toEqual({ action: "fetch", gap: false });
  });

  it("fetches when the content that runs comes back under a newer revision (to adopt that revision)", () => {
    expect(decideOnChange(held, held, announce(7, "a", at(6, "b")))).toEqual({ action: "fetch", gap: true });
    expect(decideOnChange(held, at(6, "b"), announce(7, "a", at(6, "b")))).toEqual({
      action: "fetch",
      gap: false,
    });
  });

  it("ignores what runs already, older announcements, and what is already known", () => {
    expect(decideOnChange(held, held, announce(5, "a", at(4, "z")))).toEqual({
      action: "ignore",
      reason: "current",
    });
    expect(decideOnChange(held, held, announce(4, "z", at(3, "y")))).toEqual({
      action: "ignore",
      reason: "older",
    });
    const seen = at(7, "c"); // announced or fetched, not applied yet (or rejected)
    expect(decideOnChange(held, seen, announce(6, "b", held))).toEqual({ action: "ignore", reason: "older" });
    expect(decideOnChange(held, seen, announce(7, "c", at(6, "b")))).toEqual({
      action: "ignore",
      reason: "known",
    });
  });

  it("measures gaps from the newest known position, not from what runs", () => {
    // 6 is being applied (seen), 7 follows 6: no gap although the client still runs 5
    expect(decideOnChange(held, at(6, "b"), announce(7, "c", at(6, "b")))).toEqual({
      action: "fetch",
      gap: false,
    });
  });

  it("property: never fetches for an announcement older than what runs", () => {
    fc.assert(
      fc.property(fc.nat(100), fc.nat(100), fc.constantFrom("a", "b", "c", "d"), (r, e, c) => {
        fc.pre(e < r);
        const held = at(r, "a");
        const decision = decideOnChange(held, held, announce(e, c, null));
        expect(decision.action).toBe("ignore");
      }),
    );
  });
});

describe("decideOnFetched", () => {
  const held = at(5, "a");

  it("applies a newer document, or a new hash at the same revision", () => {
    expect(decideOnFetched(held, at(6, "b"), undefined)).toBe("apply");
    expect(decideOnFetched(held, at(5, "b"), undefined)).toBe("apply");
  });

  it("never goes backwards on a lagging read", () => {
    expect(decideOnFetched(held, at(4, "z"), undefined)).toBe("older");
  });

  it("reports unchanged content even when the revision moved", () => {
    expect(decideOnFetched(held, at(5, "a"), undefined)).toBe("unchanged");
    expect(decideOnFetched(held, at(9, "a"), undefined)).toBe("unchanged");
  });

  it("does not offer a refused document again, unless a resync forces it", () => {
    const rejected = at(6, "b");
    expect(decideOnFetched(held, at(6, "b"), rejected)).toBe("known-rejected");
    expect(decideOnFetched(held, at(6, "b"), rejected, true)).toBe("apply");
    expect(decideOnFetched(held, at(7, "c"), rejected)).toBe("apply");
  });
});

describe("reached / newest", () => {
  it("a read reaches an announcement with its hash or a later revision", () => {
    expect(reached(at(6, "b"), undefined)).toBe(true);
    expect(reached(at(6, "b"), at(6, "b"))).toBe(true);
    expect(reached(at(7, "c"), at(6, "b"))).toBe(true);
    expect(reached(at(5, "a"), at(6, "b"))).toBe(false);
    expect(reached(at(6, "x"), at(6, "b"))).toBe(false);
  });

  it("newest prefers the higher revision, and the later position at the same revision", () => {
    expect(newest(at(5, "a"), at(4, "z"))).toEqual(at(5, "a"));
    expect(newest(at(5, "a"), at(6, "b"))).toEqual(at(6, "b"));
    expect(newest(at(5, "a"), at(5, "b"))).toEqual(at(5, "b"));
  });
});
