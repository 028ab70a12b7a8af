import { AppError } from "@nexus/kit";
import type { LayerState, RegistryClient } from "../clients/registry-client.js";
import type { PreviewOf } from "./approve-step.js";
import { previewLines, promotedContent, refOf, sameJson, secretsIn } from "./promote-fns.js";
import type { JsonObject, LayerRef, RunView, StepHandler, StepInput, StepOutcome } from "./step-types.js";
import type { Waves } from "./wave-promote-step.js";

/** The newest revision of the target overlay written by a run of this pipeline that succeeded. */
export type LastPassedRevision = (pipeline: string, exceptRunId: string) => Promise<number | null>;

/**
 * The content of a layer revision a run kept by number (revision 0: the layer was never written).
 * Runs started before only the number was kept carry the content itself.
 */
export async function contentOf(
  registry: RegistryClient,
  namespace: string,
  layer: string,
  ref: LayerRef,
): Promise<LayerState> {
  if (ref.content) return { revision: ref.revision, content: ref.content };
  if (ref.revision === 0) return { revision: 0, content: {} };
  const content = await registry.layerRevision(namespace, layer, ref.revision);
  if (!content)
    throw new AppError(
      503,
      "registry_unavailable",
      `revision ${ref.revision} of the ${layer} overlay of ${namespace} is not readable`,
    );
  return { revision: ref.revision, content };
}

/**
 * Write `desired` into the target overlay exactly once: the layer's revision as first found is
 * checkpointed before the write, which carries it as the expected revision. A retry after a crash
 * whose write went through meets a conflict and finds its own content there: done, nothing
 * written twice.
 */
export async function writeOnce(
  registry: RegistryClient,
  input: StepInput,
  desired: (before: LayerState) => JsonObject,
  message: string,
  author: string,
  /**
   * The target overlay as the caller just read (and checked) it: written against instead of read
   * again (one registry round trip less per promotion; the write still expects its revision).
   */
  known?: LayerState,
): Promise<{ ok: true; before: LayerState; revision: number | null } | { ok: false; reason: string }> {
  const { run } = input;
  const kept = input.state.before as LayerRef | undefined;
  let before: LayerState;
  if (kept) before = await contentOf(registry, run.namespace, run.target, kept);
  else {
    before = known ?? (await registry.layer(run.namespace, run.target));
    await input.checkpoint({ before: refOf(before) });
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
function secretRefusalIn(
  overlays: { environment: string; content: JsonObject; secretPointers: string[] }[],
): string | null {
  const found: string[] = [];
  for (const o of overlays) {
    const paths = secretsIn(o.content, o.secretPointers);
    if (paths.length) found.push(`the ${o.environment} overlay at ${paths.join(", ")}`);
  }
  if (found.length === 0) return null;
  return `secrets are never copied or rewritten by a promotion, and ${found.join("; ")} holds secrets: keep per-environment secrets out of promoted overlays (in the base layer, or as \${secret:...} references)`;
}

async function secretRefusal(
  registry: RegistryClient,
  run: RunView,
  overlays: { environment: string; content: JsonObject }[],
): Promise<string | null> {
  const pointers = await Promise.all(
    overlays.map((o) => registry.secretPointers(run.namespace, o.environment)),
  );
  return secretRefusalIn(overlays.map((o, i) => ({ ...o, secretPointers: pointers[i] ?? [] })));
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
    // Independent reads: one round trip's wait. Each layer read says where it stores secrets, so
    // neither environment's (up to 1 MiB) resolved document is read to find them.
    const [sourceLayer, target] = await Promise.all([
      registry.layerAt(run.namespace, def.source, run.sourceRevision),
      registry.layer(run.namespace, run.target),
    ]);
    if (!sourceLayer)
      return {
        kind: "failed",
        reason: `revision ${run.sourceRevision} is not a revision of the ${def.source} overlay of ${run.namespace}`,
      };
    const approvedAt = run.context.approvedTargetRevision;
    if (approvedAt !== undefined && !input.state.before && target.revision !== approvedAt)
      return {
        kind: "failed",
        reason: `${run.target} changed since the promotion was approved (approved against revision ${approvedAt}, now ${target.revision}); nothing was written`,
      };
    const source = sourceLayer.content;
    const [sourceSecrets, targetSecrets] = await Promise.all([
      sourceLayer.secretPaths ?? registry.secretPointers(run.namespace, def.source),
      target.secretPaths ?? registry.secretPointers(run.namespace, run.target),
    ]);
    const refusal = secretRefusalIn([
      { environment: def.source, content: source, secretPointers: sourceSecrets },
      { environment: run.target, content: target.content, secretPointers: targetSecrets },
    ]);
    if (refusal) return { kind: "failed", reason: refusal };
    if (inWaves) return deps.waves.plan(input);
    const result = await writeOnce(
      registry,
      input,
      (before) => promotedContent(source, before.content, def.pinnedPaths),
      `promoted from ${def.source} revision ${run.sourceRevision} by ${runLabel(run)}`,
      promotionAuthor(run.pipeline),
      // The content the approval and the secret check above saw is the content written against.
      target,
    );
    if (!result.ok) return { kind: "failed", reason: result.reason };
    const pinned = def.pinnedPaths.length ? `, keeping ${def.pinnedPaths.length} pinned path(s)` : "";
    if (result.revision === null) {
      const resolved = await registry.resolved(run.namespace, run.target);
      return {
        kind: "succeeded",
        summary: `${run.target} already had ${def.source} revision ${run.sourceRevision}'s content${pinned}; nothing written`,
        context: {
          targetBefore: refOf(result.before),
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
        targetBefore: refOf(result.before),
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
    let to: LayerState | undefined;
    if (!automatic) {
      const passed = await deps.lastPassed(run.pipeline, run.id);
      if (passed !== null) {
        const content = await registry.layerRevision(run.namespace, run.target, passed);
        if (content) to = { revision: passed, content };
      }
    }
    if (!to && run.context.targetBefore)
      to = await contentOf(registry, run.namespace, run.target, run.context.targetBefore);
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
