import { defineConfig } from "vitest/config";

/**
 * One runner for the whole repo. `unit` tests are pure (no I/O); `integration` tests talk to the
 * real Postgres, NATS and Redis on loopback through @nexus/test-fixtures.
 */
export default defineConfig({
  test: {
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
          // Three files at a time on 2 cores: most integration files wait on servers, kills and
          // timeouts far more than they compute (with two, a CI run spent 1,342 s in tests over 817 s).
          maxWorkers: 3,
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
