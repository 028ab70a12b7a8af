import { describe, expect, it } from "vitest";
import { takeGroup } from "../../src/writes/group-commit.js";
import type { CommittedWrite } from "../../src/writes/write-store.js";

const waiting = (namespace: string, heads = 1, events = 1) => ({
  write: {
    revision: { namespace },
    heads: Array.from({ length: heads }),
    outbox: { ids: Array.from({ length: events }) },
  } as unknown as CommittedWrite,
});
const names = (group: { write: CommittedWrite }[]) => group.map((w) => w.write.revision.namespace);

describe("takeGroup", () => {
  it("takes writes of the first one's shape, one per namespace, in arrival order", () => {
    const queue = [waiting("a"), waiting("b", 2, 2), waiting("c"), waiting("a"), waiting("d")];
    expect(names(takeGroup(queue))).toEqual(["a", "c", "d"]);
    // What it left waits in the order it came: a second write to `a` goes in a later statement.
    expect(names(queue)).toEqual(["b", "a"]);
    expect(names(takeGroup(queue))).toEqual(["b"]);
    expect(names(takeGroup(queue))).toEqual(["a"]);
    expect(queue).toEqual([]);
  });

  it("takes at most `max`", () => {
    const queue = ["a", "b", "c", "d", "e"].map((n) => waiting(n));
    expect(names(takeGroup(queue, 3))).toEqual(["a", "b", "c"]);
    expect(names(queue)).toEqual(["d", "e"]);
  });
});
