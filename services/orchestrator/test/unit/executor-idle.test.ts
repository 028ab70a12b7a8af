import { createLogger, type Pool } from "@nexus/kit";
import { describe, expect, it, vi } from "vitest";
import { createExecutor } from "../../src/runs/executor.js";
import type { RunStore } from "../../src/runs/run-store.js";

describe("an idle executor", () => {
  it("looks for due runs once per poll, not once per loop", async () => {
    let looks = 0;
    const runs = {
      claimNext: async () => {
        looks += 1;
        return null;
      },
    } as unknown as RunStore;
    const executor = createExecutor({
      pool: {} as Pool,
      bus: { envelope: () => ({}), subjectFor: () => "" } as never,
      logger: createLogger({ service: "executor-test", level: "silent" }),
      runs,
      handlers: {} as never,
      config: { leaseMs: 30_000, pollMs: 100, concurrency: 4, retryMs: 1_000, outboxChannel: "test" },
    });
    executor.start();
    await new Promise((r) => setTimeout(r, 1_050));
    const idleLooks = looks;
    // A wake (a run started or approved here) makes every loop look at once.
    executor.wake();
    await vi.waitFor(() => expect(looks - idleLooks).toBeGreaterThanOrEqual(4));
    await executor.stop();
    // 4 loops look once at start, then one of them every 100 ms: ~14 in 1 s (each loop polling:
    // ~44). A loaded machine delays timers, which only makes it fewer.
    expect(idleLooks).toBeGreaterThanOrEqual(4);
    expect(idleLooks).toBeLessThanOrEqual(18);
  });
});
