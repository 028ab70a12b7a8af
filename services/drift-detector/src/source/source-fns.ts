import type { GitImportFailed, GitImportProblem } from "@nexus/contracts";
import { documentFindingKey } from "../findings/finding-fns.js";
import type { ActiveFinding, DesiredFinding } from "../findings/finding-types.js";
import type { GitLayer } from "./source-types.js";

export const OVERRIDE_SOURCE = "api:git-override";
export const isGitWrite = (source: string) => source.startsWith("git:");

/** One source finding per Git-bound layer; the layer sits in the finding's environment field. */
export const sourceFindingKey = (namespace: string, layer: string) =>
  documentFindingKey("source", namespace, layer);

const where = (namespace: string, layer: string) => `layer ${layer} of ${namespace}`;
const gitName = (known: GitLayer | null) =>
  known ? `Git source ${known.source} at the head of ${known.branch}` : "its Git source";

/** An API write with `?override=git`: the layer now holds what Git does not. */
export function desiredForOverride(
  change: { namespace: string; layer: string; revision: number; actor: string },
  known: GitLayer | null,
): DesiredFinding {
  return {
    key: sourceFindingKey(change.namespace, change.layer),
    kind: "source",
    namespace: change.namespace,
    environment: change.layer,
    service: null,
    instanceIds: [],
    expected: { revision: known?.revision ?? null, hash: null },
    actual: { revision: change.revision, hash: null },
    severity: "warning",
    summary: `${where(change.namespace, change.layer)} was changed through the API by ${change.actor} (revision ${
      change.revision
    }, a Git override) and differs from ${gitName(known)}`,
    reason: `overridden by ${change.actor}`,
    details: {
      git: {
        cause: "override",
        source: known?.source ?? null,
        branch: known?.branch ?? null,
        overriddenBy: change.actor,
      },
    },
  };
}

/**
 * The layers a failed import leaves behind the branch head: those its problems name, or, for a
 * problem about no one layer (the commit could not be fetched, the layout is broken), every layer
 * of the source on that branch the detector knows.
 */
export function layersOfFailure(
  failed: Pick<GitImportFailed, "branch" | "problems">,
  sourceLayers: readonly GitLayer[],
): { namespace: string; layer: string; problems: GitImportProblem[] }[] {
  const out = new Map<string, { namespace: string; layer: string; problems: GitImportProblem[] }>();
  const add = (namespace: string, layer: string, p: GitImportProblem) => {
    const k = `${namespace}/${layer}`;
    const entry = out.get(k) ?? { namespace, layer, problems: [] };
    entry.problems.push(p);
    out.set(k, entry);
  };
  for (const p of failed.problems) {
    if (p.namespace && p.layer) add(p.namespace, p.layer, p);
    else for (const l of sourceLayers) if (l.branch === failed.branch) add(l.namespace, l.layer, p);
  }
  return [...out.values()];
}

export function desiredForImportFailure(
  failed: Pick<GitImportFailed, "source" | "branch" | "commit">,
  target: { namespace: string; layer: string; problems: readonly GitImportProblem[] },
  known: GitLayer | null,
): DesiredFinding {
  const first = target.problems[0];
  const problem = first ? `${first.path ? `${first.path}: ` : ""}${first.reason}` : "no reason given";
  return {
    key: sourceFindingKey(target.namespace, target.layer),
    kind: "source",
    namespace: target.namespace,
    environment: target.layer,
    service: null,
    instanceIds: [],
    expected: { revision: null, hash: null },
    actual: { revision: known?.revision ?? null, hash: null },
    severity: "warning",
    summary: `the import of ${failed.commit.slice(0, 12)} from Git source ${failed.source} (${failed.branch}) failed, so ${where(
      target.namespace,
      target.layer,
    )} is not at the branch head: ${problem}`,
    reason: target.problems.map((p) => p.reason).join("; "),
    details: {
      git: { cause: "import-failed", source: failed.source, branch: failed.branch, commit: failed.commit },
    },
  };
}

/**
 * The source findings a successful import repairs: every layer it wrote, and every failed-import
 * finding of its source and branch (a successful import after a failure reads the whole layout,
 * so every layer of the branch is at the head again).
 */
export function repairedByImport(
  active: readonly ActiveFinding[],
  imported: { source: string; branch: string; layers: readonly { namespace: string; layer: string }[] },
): ActiveFinding[] {
  const written = new Set(imported.layers.map((l) => sourceFindingKey(l.namespace, l.layer)));
  return active.filter((f) => {
    if (f.kind !== "source") return false;
    if (written.has(f.key)) return true;
    const git = f.details?.git;
    return git?.cause === "import-failed" && git.source === imported.source && git.branch === imported.branch;
  });
}
