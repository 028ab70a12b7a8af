import { describe, expect, it } from "vitest";
import { createSyncQueue, type SyncJob } from "../../src/sync-queue.js";

describe("sync queue", () => {
  it("runs one job at a time and merges requests that arrive meanwhile into one next job", async () => {
    const jobs: SyncJob[] = [];
    let running = 0;
    let maxRunning = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const queue = createSyncQueue(async (job) => {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      jobs.push(job);
      if (jobs.length === 1) await gate;
      running -= 1;
      return undefined;
    });
    const first = queue.schedule({ reason: "event" });
    const merged = [
      queue.schedule({ reason: "event" }),
      queue.schedule({ reason: "poll" }),
      queue.schedule({ reason: "resync", resyncRequestId: "r1" }),
      queue.schedule({ reason: "resync" }),
    ];
    release();
    await Promise.all([first, ...merged]);
    await queue.idle();
    expect(maxRunning).toBe(1);
    expect(jobs).toHaveLength(2);
    expect([...jobs[1]!.reasons].sort()).toEqual(["event", "poll", "resync"]);
    expect(jobs[1]!.resyncs).toEqual(["r1", undefined]);
  });

  it("hands a job's error to everyone waiting on it, and keeps running later jobs", async () => {
    let calls = 0;
    const queue = createSyncQueue(async () => {
      calls += 1;
      if (calls === 1) throw new Error("registry down");
      return undefined;
    });
    const failed = await queue.schedule({ reason: "refresh" });
    expect((failed as Error).message).toBe("registry down");
    expect(await queue.schedule({ reason: "refresh" })).toBeUndefined();
    expect(calls).toBe(2);
  });
});
