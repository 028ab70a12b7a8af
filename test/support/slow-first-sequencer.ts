import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The integration files that take longest, slowest first (measured in Dec 2026 on a shared 2-core
 * machine, two files at a time as CI runs them; 40–195 s each at load 10–14). A fresh clone has no vitest cache of durations, and vitest then starts
 * the largest files first: a long file of few lines could start last and keep one worker busy
 * alone. Starting these first lets the two workers end close together. A file missing here only
 * starts later; one renamed or gone is ignored.
 */
export const SLOWEST_FIRST = [
  "test/e2e/hello-service.test.ts",
  "test/e2e/scale-out.test.ts",
  "test/e2e/scale-out-scenario.test.ts",
  "services/config-registry/test/integration/write-model.test.ts",
  "test/faults/detector-kills.test.ts",
  "test/faults/redis-postgres.test.ts",
  "test/faults/monitor-kills.test.ts",
  "services/monitor/test/integration/dashboard-browser.test.ts",
  "test/faults/clock-skew.test.ts",
  "test/e2e/built-services.test.ts",
  "test/faults/jetstream-disk-full.test.ts",
  "test/faults/backup-kills.test.ts",
  "test/faults/orchestrator-kills.test.ts",
  "services/monitor/test/integration/dashboard-relays.test.ts",
  "test/faults/registry-git-kills.test.ts",
  "services/config-registry/test/integration/concurrent-references.test.ts",
  "test/faults/nats-partition.test.ts",
  "test/e2e/revision-timeline.test.ts",
  "services/monitor/test/integration/dashboard-rollouts.test.ts",
  "test/faults/jetstream-wipe.test.ts",
  "test/e2e/tracing-otlp.test.ts",
];

/**
 * Vitest's own order (projects by group, then cached durations or size), except that the files of
 * SLOWEST_FIRST start first within their project, in that order.
 */
export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST_FIRST.findIndex((path) => f.moduleId.endsWith(`/${path}`));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    const position = new Map(base.map((f, i) => [f, i]));
    // Only files of the same project move past each other: the projects keep their order.
    const projectOrder = new Map<string, number>();
    for (const f of base)
      if (!projectOrder.has(f.project.name)) projectOrder.set(f.project.name, projectOrder.size);
    return [...base].sort(
      (a, b) =>
        projectOrder.get(a.project.name)! - projectOrder.get(b.project.name)! ||
        rank(a) - rank(b) ||
        position.get(a)! - position.get(b)!,
    );
  }
}
