import type { LayerState, RegistryClient } from "../clients/registry-client.js";
import type { PreviewOf } from "./approve-step.js";
import { previewLines, promotedContent, sameJson, secretsIn } from "./promote-fns.js";
import type { JsonObject, RunView, StepHandler, StepInput, StepOutcome } from "./step-types.js";
import type { Waves } from "./wave-promote-step.js";

/** The newest revision of the target overlay written by a run of this pipeline that succeeded. */
export type LastPassedRevision = (pipeline: string, exceptRunId: string) => Promise<number | null>;

/**
 * Write `desired` into the target overlay exactly once: the layer as first found is checkpointed
 * before the write, which carries it as the expected revision. A retry after a crash whose write
 * went through meets a conflict and finds its own content there: done, nothing written twice.
 */
export async function writeOnce(
  registry: RegistryClient,
  input: StepInput,
  desired: (before: LayerState) => JsonObject,
  message: string,
  author: string,
): Promise<{ ok: true; before: LayerState; revision: number | null } | { ok: false; reason: string }> {
  const { run } = input;
  let before = input.state.before as LayerState | undefined;
  if (!before) {
    before = await registry.layer(run.namespace, run.target);
    await input.checkpoint({ before });
  }
  const content = desired(before);
  if (sameJson(content, before.content)) return { ok: true, before, revision: null };
  const written = await registry.setLayer({
    namespace: run.namespace,
    layer: run.target,
    content,
    expectedRevision: before.revision,
    message,
    author,
  });
  if (written.ok) return { ok: true, before, revision: written.revision };
  if (written.conflict) {
    const now = await registry.layer(run.namespace, run.target);
    if (sameJson(now.content, content)) return { ok: true, before, revision: now.revision };
    return {
      ok: false,
      reason: `the ${run.target} overlay changed while this step ran (now revision ${now.revision}); nothing was written`,
    };
  }
  return { ok: false, reason: `the registry refused the write: ${written.message}` };
}

const runLabel = (run: RunView) => `pipeline ${run.pipeline} run ${run.id}`;

/** Authors of the registry revisions a pipeline writes (what `config.changed` carries as `actor`). */
export const promotionAuthor = (pipeline: string) => `pipeline:${pipeline}`;
export const rollbackAuthor = (pipeline: string) => `pipeline:${pipeline}:rollback`;
export const isRollbackAuthor = (actor: string) =>
  actor.startsWith("pipeline:") && actor.endsWith(":rollback");

/**
 * Why these overlays cannot be written by a promotion, or null: a secret set in either overlay
 * would be copied as a plain value, or lost (a layer write replaces the whole layer, and the
 * orchestrator never holds secret values).
 */
async function secretRefusal(
  registry: RegistryClient,
  run: RunView,
  overlays: { environment: string; content: JsonObject }[],
): Promise<string | null> {
  const found: string[] = [];
  for (const o of overlays) {
    const { secretPointers } = await registry.resolved(run.namespace, o.environment);
    const paths = secretsIn(o.content, secretPointers);
    if (paths.length) found.push(`the ${o.environment} overlay at ${paths.join(", ")}`);
  }
  if (found.length === 0) return null;
  return `secrets are never copied or rewritten by a promotion, and ${found.join("; ")} holds secrets: keep per-environment secrets out of promoted overlays (in the base layer, or as \${secret:...} references)`;
}

/** What the promote step of this run would write now, as lines for approvers. */
export function createPreview(registry: RegistryClient): PreviewOf {
  return async (run) => {
    const [source, target] = await Promise.all([
      registry.layerRevision(run.namespace, run.source, run.sourceRevision),
      registry.layer(run.namespace, run.target),
    ]);
    const after = source
      ? promotedContent(source, target.content, run.definition.pinnedPaths)
      : target.content;
    return { targetRevision: target.revision, lines: previewLines(target.content, after) };
  };
}

export function createPromoteStep(deps: { registry: RegistryClient; waves: Waves }): StepHandler<"promote"> {
  const { registry } = deps;
  return async (input): Promise<StepOutcome> => {
    const { run } = input;
    const def = run.definition;
    const inWaves = input.step.strategy === "waves";
    // A rollout under way has passed the checks below (they ran before its plan was committed).
    if (inWaves && input.state.holdRevision !== undefined) return deps.waves.advance(input);
    const source = await registry.layerRevision(run.namespace, def.source, run.sourceRevision);
    if (!source)
      return {
        kind: "failed",
        reason: `revision ${run.sourceRevision} is not a revision of the ${def.source} overlay of ${run.namespace}`,
      };
    const target = await registry.layer(run.namespace, run.target);
    const approvedAt = run.context.approvedTargetRevision;
    if (approvedAt !== undefined && !input.state.before && target.revision !== approvedAt)
      return {
        kind: "failed",
        reason: `${run.target} changed since the promotion was approved (approved against revision ${approvedAt}, now ${target.revision}); nothing was written`,
      };
    const refusal = await secretRefusal(registry, run, [
      { environment: def.source, content: source },
      { environment: run.target, content: target.content },
    ]);
    if (refusal) return { kind: "failed", reason: refusal };
    if (inWaves) return deps.waves.plan(input);
    const result = await writeOnce(
      registry,
      input,
      (before) => promotedContent(source, before.content, def.pinnedPaths),
      `promoted from ${def.source} revision ${run.sourceRevision} by ${runLabel(run)}`,
      promotionAuthor(run.pipeline),
    );
    if (!result.ok) return { kind: "failed", reason: result.reason };
    const pinned = def.pinnedPaths.length ? `, keeping ${def.pinnedPaths.length} pinned path(s)` : "";
    if (result.revision === null) {
      const resolved = await registry.resolved(run.namespace, run.target);
      return {
        kind: "succeeded",
        summary: `${run.target} already had ${def.source} revision ${run.sourceRevision}'s content${pinned}; nothing written`,
        context: {
          targetBefore: result.before,
          promotedRevision: null,
          watchRevision: resolved.revision,
          promotedAt: input.now.toISOString(),
        },
      };
    }
    return {
      kind: "succeeded",
      summary: `copied ${def.source} revision ${run.sourceRevision} into ${run.target} as revision ${result.revision}${pinned}`,
      context: {
        targetBefore: result.before,
        promotedRevision: result.revision,
        watchRevision: result.revision,
        promotedAt: input.now.toISOString(),
      },
    };
  };
}

/**
 * `rollback` restores the last revision that passed: the one the newest succeeded run of this
 * pipeline promoted; the automatic rollback after a failure (and a pipeline that never passed)
 * restores what this run's promote step found.
 */
export function createRollbackStep(deps: {
  registry: RegistryClient;
  lastPassed: LastPassedRevision;
}): StepHandler<"rollback"> {
  const { registry } = deps;
  return async (input): Promise<StepOutcome> => {
    const { run } = input;
    const automatic = input.index >= run.definition.steps.length;
    let to: { revision: number; content: JsonObject } | undefined = run.context.targetBefore;
    if (!automatic) {
      const passed = await deps.lastPassed(run.pipeline, run.id);
      if (passed !== null) {
        const content = await registry.layerRevision(run.namespace, run.target, passed);
        if (content) to = { revision: passed, content };
      }
    }
    if (!to) return { kind: "failed", reason: "nothing to roll back to: no run of this pipeline passed yet" };
    // The automatic rollback undoes this run's own write only: someone who wrote the target since
    // (a person, another run) keeps their change. Checked once, before the checkpoint.
    if (automatic && !input.state.before && run.context.promotedRevision != null) {
      const now = await registry.layer(run.namespace, run.target);
      if (now.revision !== run.context.promotedRevision)
        return {
          kind: "failed",
          reason: `${run.target} was written since this run promoted revision ${run.context.promotedRevision} (it is at revision ${now.revision}); not rolled back over that change`,
        };
    }
    const target = to;
    const refusal = await secretRefusal(registry, run, [
      { environment: run.target, content: target.content },
    ]);
    if (refusal) return { kind: "failed", reason: refusal };
    const result = await writeOnce(
      registry,
      input,
      () => target.content,
      `rolled back to revision ${target.revision} by ${runLabel(run)}`,
      rollbackAuthor(run.pipeline),
    );
    if (!result.ok) return { kind: "failed", reason: result.reason };
    const revision = result.revision ?? result.before.revision;
    return {
      kind: "succeeded",
      summary:
        result.revision === null
          ? `${run.target} already had revision ${target.revision}'s content`
          : `restored revision ${target.revision} of ${run.target} as revision ${revision}`,
      context: {
        rollback: { fromRevision: result.before.revision, toRevision: target.revision, revision },
      },
    };
  };
}
