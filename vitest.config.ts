import { defineConfig } from "vitest/config";
import { SlowestFirstSequencer } from "./test/support/slow-first-sequencer.js";

/**
 * One runner for the whole repo. `unit` tests are pure (no I/O); `integration` tests talk to the
 * real Postgres, NATS and Redis on loopback through @nexus/test-fixtures.
 */
export default defineConfig({
  test: {
    // The slowest integration files start first, so that the two workers end together.
    sequence: { sequencer: SlowestFirstSequencer },
    projects: [
      {
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["packages/*/test/unit/**/*.test.ts", "services/*/test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: [
            "packages/*/test/integration/**/*.test.ts",
            "services/*/test/integration/**/*.test.ts",
            "test/e2e/**/*.test.ts",
            "test/faults/**/*.test.ts",
            "test/deploy/**/*.test.ts",
          ],
          globalSetup: [
            "packages/test-fixtures/src/global-setup.ts",
            "test/support/build-once.ts",
            "test/faults/figures.ts",
          ],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: "forks",
          // Two files at a time on 2 cores. Three were tried: the run took longer (930 s against 817 s,
          // tests' own time 2,510 s against 1,342 s), the files contending for the CPU.
          maxWorkers: 2,
          // Each worker keeps its loaded modules from one test file to the next. Importing a
          // service and its dependencies again for every file cost more than half of the
          // integration run. Test files therefore own no module-level state: each builds its
          // apps, connections and databases through @nexus/test-fixtures and closes them.
          isolate: false,
        },
      },
    ],
  },
});
