import { describe, expect, it } from "vitest";
import type { ActiveFinding } from "../../src/findings/finding-types.js";
import { planRemediation } from "../../src/remediation/remediation-fns.js";
import {
  desiredForImportFailure,
  desiredForOverride,
  layersOfFailure,
  repairedByImport,
} from "../../src/source/source-fns.js";
import type { GitLayer } from "../../src/source/source-types.js";

const layer = (over: Partial<GitLayer> = {}): GitLayer => ({
  namespace: "shop",
  layer: "production",
  sourceId: "00000000-0000-4000-8000-000000000001",
  source: "acme",
  branch: "main",
  commit: "a".repeat(40),
  revision: 3,
  ...over,
});
const problem = (over: Partial<{ namespace: string | null; layer: string | null; reason: string }> = {}) => ({
  path: "config/shop/production.yaml",
  namespace: null,
  layer: null,
  line: null,
  code: "invalid_yaml",
  reason: "bad indentation",
  ...over,
});
const now = 1_000_000;
const active = (desired: ReturnType<typeof desiredForOverride>, over: Partial<ActiveFinding> = {}) =>
  ({
    ...desired,
    id: over.id ?? "f",
    status: "open",
    firstSeenAt: new Date(now),
    lastSeenAt: new Date(now),
    resolvingSince: null,
    resolution: null,
    remediationAttempts: 0,
    lastRemediationAt: null,
    escalatedAt: null,
    ...over,
  }) as ActiveFinding;

describe("source drift", () => {
  it("an override names the layer, who overrode it, the override and the Git revision", () => {
    const d = desiredForOverride({ namespace: "shop", layer: "base", revision: 7, actor: "alice" }, layer());
    expect(d).toMatchObject({
      key: "source:shop/base",
      kind: "source",
      environment: "base",
      expected: { revision: 3 },
      actual: { revision: 7 },
      severity: "warning",
      details: { git: { cause: "override", source: "acme", branch: "main", overriddenBy: "alice" } },
    });
    expect(d.summary).toContain("alice");
    expect(
      desiredForOverride({ namespace: "shop", layer: "base", revision: 7, actor: "a" }, null).details,
    ).toEqual({ git: { cause: "override", source: null, branch: null, overriddenBy: "a" } });
  });

  it("a failed import concerns the layers its problems name, or every known layer of its branch", () => {
    const known = [layer(), layer({ layer: "base" }), layer({ layer: "staging", branch: "staging" })];
    const named = layersOfFailure(
      { branch: "main", problems: [problem({ namespace: "shop", layer: "production" })] },
      known,
    );
    expect(named.map((t) => t.layer)).toEqual(["production"]);
    const whole = layersOfFailure({ branch: "main", problems: [problem()] }, known);
    expect(whole.map((t) => t.layer).sort()).toEqual(["base", "production"]);
    const d = desiredForImportFailure(
      { source: "acme", branch: "main", commit: "b".repeat(40) },
      named[0]!,
      layer(),
    );
    expect(d.summary).toContain("bad indentation");
    expect(d.details?.git).toMatchObject({ cause: "import-failed", commit: "b".repeat(40) });
  });

  it("an import repairs the layers it wrote and the failed-import findings of its branch", () => {
    const override = active(
      desiredForOverride({ namespace: "shop", layer: "base", revision: 7, actor: "a" }, layer()),
      { id: "o" },
    );
    const failed = active(
      desiredForImportFailure(
        { source: "acme", branch: "main", commit: "b".repeat(40) },
        { namespace: "shop", layer: "production", problems: [problem()] },
        null,
      ),
      { id: "x" },
    );
    const other = active(
      desiredForImportFailure(
        { source: "acme", branch: "staging", commit: "b".repeat(40) },
        { namespace: "shop", layer: "staging", problems: [problem()] },
        null,
      ),
      { id: "s" },
    );
    const all = [override, failed, other];
    expect(repairedByImport(all, { source: "acme", branch: "main", layers: [] }).map((f) => f.id)).toEqual([
      "x",
    ]);
    expect(
      repairedByImport(all, {
        source: "acme",
        branch: "main",
        layers: [{ namespace: "shop", layer: "base" }],
      }).map((f) => f.id),
    ).toEqual(["o", "x"]);
  });

  it("remediate mode re-imports the source of a source finding, never in report mode, and escalates after the last attempt", () => {
    const f = active(
      desiredForOverride({ namespace: "shop", layer: "base", revision: 7, actor: "a" }, layer()),
    );
    const policy = { maxAttempts: 2, retryMs: 1_000, now };
    expect(
      planRemediation(
        [f],
        () => "remediate",
        () => undefined,
        policy,
      ),
    ).toEqual([{ action: "reimport", finding: f, source: "acme", branch: "main", attempt: 1 }]);
    expect(
      planRemediation(
        [f],
        () => "report",
        () => undefined,
        policy,
      ),
    ).toEqual([]);
    const unknown = active(
      desiredForOverride({ namespace: "shop", layer: "base", revision: 7, actor: "a" }, null),
    );
    expect(
      planRemediation(
        [unknown],
        () => "remediate",
        () => undefined,
        policy,
      ),
    ).toEqual([]);
    const spent = { ...f, remediationAttempts: 2, lastRemediationAt: new Date(now - 1_000) };
    expect(
      planRemediation(
        [spent],
        () => "remediate",
        () => undefined,
        policy,
      )[0],
    ).toMatchObject({
      action: "escalate",
      attempts: 2,
    });
  });
});
