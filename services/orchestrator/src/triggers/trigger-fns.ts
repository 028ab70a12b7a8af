/** Which pipelines an event starts. No I/O. */
import type { ConfigChangeRequested } from "@nexus/contracts";
import picomatch from "picomatch";
import type { PipelineDefinition, PipelineDto } from "../pipelines/pipeline-types.js";

const definitionOf = (p: PipelineDto) => p.definition as unknown as PipelineDefinition;

/** The branch a pushed ref names; null for tags and other refs (they start nothing). */
export function branchOf(ref: string): string | null {
  const prefix = "refs/heads/";
  return ref.startsWith(prefix) && ref.length > prefix.length ? ref.slice(prefix.length) : null;
}

/** Does a branch glob take this branch? `*` stays within one `/` segment, `**` crosses them. */
export const branchMatches = (glob: string, branch: string): boolean =>
  picomatch.isMatch(branch, glob, { dot: true });

/**
 * A change request reaches a pipeline when it is of the pipeline's namespace and the protected
 * environments it would change include the pipeline's target.
 */
export function startsOnChangeRequest(
  p: PipelineDto,
  cr: Pick<ConfigChangeRequested, "namespace" | "layer" | "environments">,
): boolean {
  if (p.namespace !== cr.namespace) return false;
  if (!cr.environments.includes(p.target) && cr.layer !== p.target) return false;
  return definitionOf(p).triggers.some((t) => t.type === "change-request");
}

/**
 * A push reaches a pipeline when one of its git-push triggers names the source (by any of the
 * names given: its id, and its name when known) and takes the branch.
 */
export function startsOnGitPush(p: PipelineDto, source: readonly string[], branch: string): boolean {
  return definitionOf(p).triggers.some(
    (t) => t.type === "git-push" && source.includes(t.source) && branchMatches(t.branch, branch),
  );
}

/** Must the source's name be looked up, or do all these pipelines name their Git sources by this id? */
export const needsSourceName = (pipelines: readonly PipelineDto[], sourceId: string): boolean =>
  pipelines.some((p) => definitionOf(p).triggers.some((t) => t.type === "git-push" && t.source !== sourceId));

/** Pipelines that listen to pushes at all (so a push to an unwatched source asks the registry nothing). */
export const watchesGitPushes = (p: PipelineDto): boolean =>
  definitionOf(p).triggers.some((t) => t.type === "git-push");
