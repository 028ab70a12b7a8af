import { describe, expect, it } from "vitest";
import type { OutboxPlace } from "../../src/outbox/enqueue.js";
import { createRecentIds, orderFromPlaces } from "../../src/outbox/order.js";

const row = (id: string, seq: number, earlier: string[] | null, subject = "s") => ({
  id,
  subject,
  place: { id, seq, earlier } satisfies OutboxPlace,
});
const none = () => false;

describe("orderFromPlaces: handed rows against what their commits saw unpublished", () => {
  it("puts a batch in seq order, whatever order it was handed over in", () => {
    const order = orderFromPlaces([row("c", 30, ["a", "b"]), row("a", 10, []), row("b", 20, ["a"])], none);
    expect(order?.behind).toBe(false);
    expect(order?.ordered.map((r) => r.id)).toEqual(["a", "b", "c"]);
  });

  it("lets a row go when each earlier row of its subject is before it or published by this relay", () => {
    const published = new Set(["old"]);
    expect(
      orderFromPlaces([row("b", 20, ["old", "a"]), row("a", 10, ["old"])], (id) => published.has(id)),
    ).toEqual(expect.objectContaining({ behind: false }));
  });

  it("is behind when a commit saw a row of its subject that is neither in the batch nor published", () => {
    expect(orderFromPlaces([row("a", 10, []), row("b", 20, ["elsewhere"])], none)?.behind).toBe(true);
    // An earlier row that comes after it in the batch cannot exist (seq order); one in the batch
    // with a higher seq does not count as before it.
    expect(orderFromPlaces([row("a", 10, ["b"]), row("b", 20, [])], none)?.behind).toBe(true);
  });

  it("is behind when the commit's list was cut off", () => {
    expect(orderFromPlaces([row("a", 10, null)], () => true)?.behind).toBe(true);
  });

  it("gives no answer (ask the table) when a row came without its place", () => {
    expect(orderFromPlaces([row("a", 10, []), { id: "b", subject: "s" }], () => true)).toBeUndefined();
  });
});

describe("createRecentIds", () => {
  it("keeps the newest ids up to its limit; an id added again counts as new", () => {
    const recent = createRecentIds(3);
    recent.add(["a", "b", "c"]);
    recent.add(["a"]);
    recent.add(["d"]);
    expect(["a", "b", "c", "d"].filter(recent.has)).toEqual(["a", "c", "d"]);
    recent.clear();
    expect(recent.has("d")).toBe(false);
  });
});
