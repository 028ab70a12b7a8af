import type { NatsConnection } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { RolloutAnswer, RolloutGate } from "../../src/rollout-gate.js";
import { ANNOUNCEMENT_WAIT_MS, RolloutHold } from "../../src/rollout-hold.js";

/** Stands for a live connection: announcements come over it (the gate itself is stubbed). */
const nc = {} as NatsConnection;

const logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** A gate that records every question and answers `hold` for revisions above `holdAbove`. */
function countingGate(holdAbove: number) {
  const asked: number[] = [];
  const gate: RolloutGate = {
    ask: async (_nc, revision): Promise<RolloutAnswer> => {
      asked.push(revision);
      return revision > holdAbove
        ? { decision: "hold", rolloutId: "r-1", holdRevision: holdAbove, wave: 2 }
        : { decision: "apply" };
    },
  };
  return { gate, asked };
}

describe("RolloutHold: which revisions are asked about", () => {
  it("does not ask about a revision a write announced with rolloutGate: false", async () => {
    const { gate, asked } = countingGate(0);
    const hold = new RolloutHold(gate, logger);
    hold.noteChange({ revision: 7, trigger: "write", rolloutGate: false });
    hold.noteChange({ revision: 8, trigger: "rollback", rolloutGate: false });
    expect(await hold.holds(undefined, 7, 6)).toBe(false);
    expect(await hold.holds(undefined, 8, 7)).toBe(false);
    expect(asked).toEqual([]);
  });

  it("asks about a gated revision, one announced without the field, one never announced, and a same-revision change", async () => {
    const { gate, asked } = countingGate(10);
    const hold = new RolloutHold(gate, logger);
    hold.noteChange({ revision: 11, trigger: "write", rolloutGate: true });
    hold.noteChange({ revision: 12, trigger: "write" });
    // A dependency change keeps its revision: its gate says nothing about the write that made it.
    hold.noteChange({ revision: 13, trigger: "dependency", rolloutGate: false });
    hold.noteChange({ revision: 13, trigger: "variables", rolloutGate: false });
    expect(await hold.holds(undefined, 11, 10)).toBe(true);
    expect(hold.heldRevision).toBe(11);
    expect(await hold.holds(undefined, 12, 10)).toBe(true);
    expect(await hold.holds(undefined, 13, 10)).toBe(true);
    expect(await hold.holds(undefined, 14, 10)).toBe(true);
    expect(asked).toEqual([11, 12, 13, 14]);
  });

  it("an ungated revision after a held one is applied and ends the hold (the gate closed: the plan ended)", async () => {
    const { gate, asked } = countingGate(10);
    const hold = new RolloutHold(gate, logger);
    expect(await hold.holds(undefined, 11, 10)).toBe(true);
    hold.noteChange({ revision: 12, trigger: "rollback", rolloutGate: false });
    expect(await hold.holds(undefined, 12, 10)).toBe(false);
    expect(hold.heldRevision).toBeUndefined();
    expect(asked).toEqual([11]);
  });

  it("remembers only the newest 64 announcements", async () => {
    const { gate, asked } = countingGate(0);
    const hold = new RolloutHold(gate, logger);
    for (let r = 1; r <= 100; r++) hold.noteChange({ revision: r, trigger: "write", rolloutGate: false });
    expect(await hold.holds(undefined, 100, 99)).toBe(false);
    expect(await hold.holds(undefined, 37, 36)).toBe(false);
    expect(await hold.holds(undefined, 36, 35)).toBe(true);
    expect(asked).toEqual([36]);
  });

  it("with NATS, a read ahead of every announcement waits for its own: ungated, it is not asked about", async () => {
    const { gate, asked } = countingGate(0);
    const hold = new RolloutHold(gate, logger);
    hold.noteChange({ revision: 4, trigger: "write", rolloutGate: false });
    const started = Date.now();
    const decided = hold.holds(nc, 6, 4);
    setTimeout(() => hold.noteChange({ revision: 6, trigger: "write", rolloutGate: false }), 30);
    expect(await decided).toBe(false);
    expect(Date.now() - started).toBeLessThan(ANNOUNCEMENT_WAIT_MS);
    expect(asked).toEqual([]);
  });

  it("with NATS, asks once a newer announcement came without its ungated mark, or none came in time", async () => {
    const { gate, asked } = countingGate(0);
    const hold = new RolloutHold(gate, logger);
    const gated = hold.holds(nc, 6, 4);
    setTimeout(() => hold.noteChange({ revision: 6, trigger: "write", rolloutGate: true }), 30);
    expect(await gated).toBe(true);
    const started = Date.now();
    expect(await hold.holds(nc, 9, 4)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(ANNOUNCEMENT_WAIT_MS - 5);
    expect(asked).toEqual([6, 9]);
  });
});
