import { describe, expect, it } from "vitest";
import {
  progressLines,
  type RunView,
  resolveOrchestratorUrl,
  runHeadline,
  stepLines,
} from "../../src/commands/orchestrator-fns.js";
import { CliError } from "../../src/exit-codes.js";

const run = (over: Partial<RunView> = {}): RunView => ({
  id: "r1",
  pipeline: "p",
  pipelineVersion: 2,
  namespace: "shop",
  source: "staging",
  target: "production",
  sourceRevision: 12,
  status: "running",
  startedBy: "alice",
  promotedRevision: null,
  failure: null,
  steps: [
    {
      index: 0,
      name: "approve",
      type: "approve",
      status: "succeeded",
      attempts: 1,
      summary: "approved by bob",
    },
    { index: 1, name: "promote", type: "promote", status: "running", attempts: 2, summary: null },
  ],
  ...over,
});

describe("resolveOrchestratorUrl", () => {
  it("prefers the flag, then the environment, then the config file, and trims a trailing slash", () => {
    expect(resolveOrchestratorUrl("http://a:1/", { NEXUS_ORCHESTRATOR_URL: "http://b:2" }, null)).toBe(
      "http://a:1",
    );
    expect(resolveOrchestratorUrl(undefined, { NEXUS_ORCHESTRATOR_URL: "http://b:2" }, null)).toBe(
      "http://b:2",
    );
    expect(resolveOrchestratorUrl(undefined, {}, { orchestratorUrl: "https://c" })).toBe("https://c");
    expect(resolveOrchestratorUrl(undefined, {}, null)).toBeNull();
  });

  it("refuses what is not a plain http(s) URL, naming where it came from", () => {
    expect(() => resolveOrchestratorUrl("ftp://x", {}, null)).toThrow(
      /--orchestrator-url must start with http/,
    );
    expect(() => resolveOrchestratorUrl(undefined, { NEXUS_ORCHESTRATOR_URL: "http://u:p@x" }, null)).toThrow(
      CliError,
    );
  });
});

describe("run views", () => {
  it("says what a run promotes and where it is", () => {
    expect(runHeadline(run({ promotedRevision: 40, status: "succeeded" }))).toBe(
      "run r1 of p v2: shop staging@12 → production, succeeded (production revision 40)",
    );
    expect(stepLines(run())).toEqual(["  ✓ approve  approved by bob", "  ▶ promote (attempt 2)"]);
    const waiting = run({
      steps: [
        {
          index: 0,
          name: "approve",
          type: "approve",
          status: "waiting",
          attempts: 1,
          summary: "waiting for approval: 0 of 1",
          output: "production revision 3 would change:\nreplace /a = 1",
        },
      ],
    });
    expect(stepLines(waiting)).toEqual([
      "  … approve  waiting for approval: 0 of 1",
      "      production revision 3 would change:",
      "      replace /a = 1",
    ]);
  });

  it("prints only what changed since the last look", () => {
    const before = run();
    const after = run({
      status: "failed",
      failure: "promote: refused",
      steps: [before.steps![0]!, { ...before.steps![1]!, status: "failed", summary: "refused" }],
    });
    expect(progressLines(before, after)).toEqual([
      "promote: failed — refused",
      "run failed: promote: refused",
    ]);
    expect(progressLines(after, after)).toEqual([]);
  });
});
