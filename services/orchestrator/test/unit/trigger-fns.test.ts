import { AppError } from "@nexus/kit";
import { describe, expect, it } from "vitest";
import { checkPipeline } from "../../src/pipelines/pipeline-fns.js";
import type { PipelineDto } from "../../src/pipelines/pipeline-types.js";
import {
  branchMatches,
  branchOf,
  needsSourceName,
  startsOnChangeRequest,
  startsOnGitPush,
  watchesGitPushes,
} from "../../src/triggers/trigger-fns.js";

const base = { name: "p", namespace: "shop", source: "staging", target: "production" };
const pipeline = (triggers: unknown[], steps: unknown[] = [{ type: "approve" }, { type: "promote" }]) => {
  const definition = checkPipeline({ ...base, triggers, steps });
  return {
    ...base,
    version: 1,
    definition: definition as unknown as PipelineDto["definition"],
    createdBy: "a",
    createdAt: "",
    updatedBy: "a",
    updatedAt: "",
  } satisfies PipelineDto;
};
const refusedField = (input: unknown): string | undefined => {
  try {
    checkPipeline(input);
  } catch (err) {
    if (err instanceof AppError) return err.field;
    throw err;
  }
  throw new Error("accepted");
};

describe("trigger definitions", () => {
  it("defaults a git-push branch to every top-level branch", () => {
    const p = checkPipeline({
      ...base,
      triggers: [{ type: "git-push", source: "repo" }],
      steps: [{ type: "approve" }],
    });
    expect(p.triggers).toEqual([{ type: "git-push", source: "repo", branch: "*" }]);
  });

  it("names the field of a bad trigger", () => {
    const steps = [{ type: "approve" }];
    expect(refusedField({ ...base, triggers: [{ type: "git-push" }], steps })).toBe("triggers[0].source");
    expect(
      refusedField({ ...base, triggers: [{ type: "git-push", source: "repo", branch: "-x" }], steps }),
    ).toBe("triggers[0].branch");
    expect(
      refusedField({ ...base, triggers: [{ type: "git-push", source: "repo", tag: "v1" }], steps }),
    ).toBe("triggers[0]");
  });

  it("asks a change-request pipeline for an approval before it promotes", () => {
    const triggers = [{ type: "manual" }, { type: "change-request" }];
    expect(refusedField({ ...base, triggers, steps: [{ type: "promote" }] })).toBe("triggers[1].type");
    expect(refusedField({ ...base, triggers, steps: [{ type: "promote" }, { type: "approve" }] })).toBe(
      "triggers[1].type",
    );
    expect(() =>
      checkPipeline({ ...base, triggers, steps: [{ type: "approve" }, { type: "promote" }] }),
    ).not.toThrow();
  });
});

describe("branchOf and branchMatches", () => {
  it("reads branches, not tags", () => {
    expect(branchOf("refs/heads/release/1.2")).toBe("release/1.2");
    expect(branchOf("refs/tags/v1")).toBeNull();
    expect(branchOf("refs/heads/")).toBeNull();
  });

  it("keeps `*` within a segment and lets `**` cross them", () => {
    expect(branchMatches("main", "main")).toBe(true);
    expect(branchMatches("main", "maint")).toBe(false);
    expect(branchMatches("release/*", "release/1.2")).toBe(true);
    expect(branchMatches("release/*", "release/1/2")).toBe(false);
    expect(branchMatches("release/**", "release/1/2")).toBe(true);
    expect(branchMatches("*", "feature/x")).toBe(false);
    expect(branchMatches("{main,develop}", "develop")).toBe(true);
  });
});

describe("which pipelines an event starts", () => {
  const cr = { namespace: "shop", layer: "production", environments: ["production"] };

  it("starts change-request pipelines of the namespace whose target the request reaches", () => {
    const p = pipeline([{ type: "change-request" }]);
    expect(startsOnChangeRequest(p, cr)).toBe(true);
    // A base-layer request reaches every protected environment it lists.
    expect(startsOnChangeRequest(p, { ...cr, layer: "base", environments: ["staging", "production"] })).toBe(
      true,
    );
    expect(startsOnChangeRequest(p, { ...cr, layer: "staging", environments: ["staging"] })).toBe(false);
    expect(startsOnChangeRequest(p, { ...cr, namespace: "other" })).toBe(false);
    expect(startsOnChangeRequest(pipeline([{ type: "manual" }]), cr)).toBe(false);
  });

  it("starts git-push pipelines naming the source whose branch glob takes the branch", () => {
    const p = pipeline([{ type: "git-push", source: "repo", branch: "release/*" }]);
    expect(watchesGitPushes(p)).toBe(true);
    const id = "7d1c7a3e-2b8f-4c1e-9a3b-0c2d4e6f8a10";
    expect(startsOnGitPush(p, [id, "repo"], "release/1")).toBe(true);
    expect(startsOnGitPush(p, [id, "repo"], "main")).toBe(false);
    expect(startsOnGitPush(p, [id], "release/1")).toBe(false);
    expect(startsOnGitPush(p, [id, "other-repo"], "release/1")).toBe(false);
    expect(needsSourceName([p], id)).toBe(true);
    const byId = pipeline([{ type: "git-push", source: id, branch: "main" }]);
    expect(startsOnGitPush(byId, [id], "main")).toBe(true);
    expect(needsSourceName([byId], id)).toBe(false);
    expect(watchesGitPushes(pipeline([{ type: "change-request" }]))).toBe(false);
  });
});
