import { AppError } from "@nexus/kit";
import { describe, expect, it } from "vitest";
import {
  checkCommands,
  checkPipeline,
  fieldOf,
  hookUrlAllowed,
  nameSteps,
} from "../../src/pipelines/pipeline-fns.js";

const base = { name: "p", namespace: "shop", source: "staging", target: "production" };
const refusal = (input: unknown): AppError => {
  try {
    checkPipeline(input);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error("accepted");
};

describe("checkPipeline", () => {
  it("reads YAML and fills defaults", () => {
    const p = checkPipeline(`
name: p
namespace: shop
source: staging
target: production
steps:
  - type: approve
  - type: promote
  - type: wait-applied
`);
    expect(p.triggers).toEqual([{ type: "manual" }]);
    expect(p.rollbackOnFailure).toBe(true);
    expect(p.steps[0]).toMatchObject({ type: "approve", approvals: 1, name: "approve" });
    expect(p.steps[2]).toMatchObject({ percent: 100, timeoutSeconds: 600, minInstances: 1 });
  });

  it("names the failing field as a path", () => {
    const e = refusal({ ...base, steps: [{ type: "promote" }, { type: "wait-applied", percent: 0 }] });
    expect(e.statusCode).toBe(400);
    expect(e.field).toBe("steps[1].percent");
    expect(refusal({ ...base, steps: [{ type: "deploy" }] }).field).toBe("steps[0].type");
    expect(refusal({ ...base, steps: [{ type: "promote", extra: 1 }] }).field).toBe("steps[0]");
    expect(refusal({ ...base, target: "staging", steps: [{ type: "promote" }] }).field).toBe("target");
    expect(refusal({ ...base, pinnedPaths: ["db.host"], steps: [{ type: "promote" }] }).field).toBe(
      "pinnedPaths[0]",
    );
    expect(refusal({ ...base, steps: [] }).field).toBe("steps");
  });

  it("lists every problem in details", () => {
    const e = refusal({ ...base, namespace: "Bad Name", steps: [{ type: "approve", approvals: 0 }] });
    const fields = (e.details as { issues: { field: string }[] }).issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(["namespace", "steps[0].approvals"]));
  });

  it("refuses duplicate step names and watching before promoting", () => {
    const dup = refusal({
      ...base,
      steps: [
        { type: "promote", name: "x" },
        { type: "approve", name: "x" },
      ],
    });
    expect(dup.field).toBe("steps[1].name");
    const early = refusal({ ...base, steps: [{ type: "health-gate" }, { type: "promote" }] });
    expect(early.message).toContain("must come after a promote step");
  });

  it("names the line of a YAML syntax error", () => {
    const e = refusal("name: p\nsteps: [\n  - a: b\n");
    expect(e.code).toBe("invalid_pipeline");
    expect(e.message).toMatch(/line \d/);
  });
});

describe("nameSteps", () => {
  it("numbers repeated types and avoids names already taken", () => {
    const named = nameSteps([
      { type: "approve", approvals: 1, timeoutSeconds: 60 },
      { type: "approve", approvals: 1, timeoutSeconds: 60, name: "approve-2" },
      { type: "approve", approvals: 1, timeoutSeconds: 60 },
    ]);
    expect(named.map((s) => s.name)).toEqual(["approve", "approve-2", "approve-3"]);
  });
});

describe("fieldOf", () => {
  it("joins keys with dots and indexes with brackets", () => {
    expect(fieldOf(["steps", 2, "url"])).toBe("steps[2].url");
    expect(fieldOf([])).toBe("(root)");
  });
});

describe("checkCommands", () => {
  const p = checkPipeline({
    ...base,
    steps: [{ type: "promote" }, { type: "run", command: ["./smoke.sh", "-q"] }],
  });

  it("lets through only programs the operator listed, naming the step", () => {
    expect(() => checkCommands(p, ["./smoke.sh"])).not.toThrow();
    const e = (() => {
      try {
        checkCommands(p, ["curl"]);
      } catch (err) {
        return err as AppError;
      }
    })();
    expect(e).toMatchObject({ code: "command_not_allowed", field: "steps[1].command" });
    expect(() => checkCommands(p, [])).toThrow(/runs no commands/);
  });
});

describe("hookUrlAllowed", () => {
  const allowed = ["https://ci.example.com/hooks/"];
  it("needs the same origin and a path under the allowed one", () => {
    expect(hookUrlAllowed("https://ci.example.com/hooks/deploy", allowed)).toBe(true);
    expect(hookUrlAllowed("https://ci.example.com/admin", allowed)).toBe(false);
    expect(hookUrlAllowed("https://ci.example.com.evil.test/hooks/x", allowed)).toBe(false);
    expect(hookUrlAllowed("http://ci.example.com/hooks/x", allowed)).toBe(false);
    expect(hookUrlAllowed("https://ci.example.com:8443/hooks/x", allowed)).toBe(false);
    expect(hookUrlAllowed("https://ci.example.com/hooks/x", [])).toBe(false);
  });
});
