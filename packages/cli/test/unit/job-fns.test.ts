import type { JobDto, JobRunDto } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import { findingPlace, jobProgressLine, jobRunHeadline, scheduleWords } from "../../src/commands/job-fns.js";

const run = (over: Partial<JobRunDto> = {}): JobRunDto => ({
  id: "6f1d9a2c-3b4e-4f5a-8b6c-7d8e9f0a1b2c",
  job: "scan",
  kind: "compliance-scan",
  trigger: "manual",
  scheduledAt: null,
  startedBy: "root",
  status: "running",
  summary: "",
  findings: [],
  startedAt: "2026-12-07T06:00:00.000Z",
  finishedAt: null,
  ...over,
});

describe("job-fns", () => {
  it("says what a running job does and for how long", () => {
    expect(jobProgressLine(run(), 12_400)).toBe(
      "job scan (compliance-scan): checking each environment's resolved document against its schema and policies; 12 s so far",
    );
    expect(jobProgressLine(run({ kind: "backup-drill", job: "drill" }), 0)).toContain(
      "the backup service is restoring its newest backup",
    );
    expect(jobProgressLine(run({ kind: "later-kind" }), 1_000)).toBe(
      "job scan (later-kind): working; 1 s so far",
    );
  });

  it("heads a run with who started it, its status and how long it took", () => {
    expect(jobRunHeadline(run())).toBe(
      "job run 6f1d9a2c-3b4e-4f5a-8b6c-7d8e9f0a1b2c of scan (compliance-scan), by hand by root: running since 2026-12-07T06:00:00.000Z",
    );
    expect(
      jobRunHeadline(
        run({
          trigger: "schedule",
          scheduledAt: "2026-12-07T06:00:00.000Z",
          status: "failed",
          finishedAt: "2026-12-07T06:00:03.600Z",
        }),
      ),
    ).toBe(
      "job run 6f1d9a2c-3b4e-4f5a-8b6c-7d8e9f0a1b2c of scan (compliance-scan), on its schedule (2026-12-07T06:00:00.000Z): failed in 4 s",
    );
  });

  it("places findings, and shows a schedule or its absence", () => {
    const f = { namespace: "shop", environment: "production", kind: "policy", path: "/db/ssl", message: "m" };
    expect(findingPlace(f)).toBe("shop/production /db/ssl");
    expect(findingPlace({ ...f, environment: null, path: null })).toBe("shop");
    expect(findingPlace({ ...f, namespace: null, environment: null, path: null })).toBe("system");
    const job = (definition: Record<string, unknown>): JobDto => ({
      name: "n",
      kind: "backup-drill",
      definition,
      updatedBy: "root",
      createdAt: "",
      updatedAt: "",
      nextRunAt: null,
    });
    expect(scheduleWords(job({}))).toBe("-");
    expect(scheduleWords(job({ schedule: { cron: "0 3 * * *" } }))).toBe("0 3 * * *");
    expect(scheduleWords(job({ schedule: { cron: "0 3 * * *", timezone: "Europe/Paris" } }))).toBe(
      "0 3 * * * (Europe/Paris)",
    );
  });
});
