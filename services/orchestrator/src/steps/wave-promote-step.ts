import type { DriftClient } from "../clients/drift-client.js";
import type { RegistryClient } from "../clients/registry-client.js";
import type { PipelineDefinition, StepOf } from "../pipelines/pipeline-types.js";
import { type PublishRollout, rolloutProgressed } from "../rollouts/rollout-events.js";
import { waveProgress } from "../rollouts/rollout-fns.js";
import type { RolloutGates } from "../rollouts/rollout-gates.js";
import { isAnotherActiveRollout, type RolloutStore } from "../rollouts/rollout-store.js";
import type { RolloutPlan } from "../rollouts/rollout-types.js";
import { promotedContent, refOf, withSeenAcks } from "./promote-fns.js";
import type { JsonObject, SeenAcks, StepInput, StepOutcome } from "./step-types.js";

type PromoteInput = StepInput<StepOf<"promote">>;

/** What the waves of one promote step remember between looks (`run_steps.state`). */
interface WaveState extends JsonObject {
  /** The target's resolved revision when the rollout started: what instances outside the waves keep. */
  holdRevision: number;
  /** The promoted revision, once written. */
  written?: number;
  released?: number;
  /** When the newest wave was released (its timeout counts from here), ISO. */
  waveAt?: string;
  /** The newest wave applied; the next one is released after this, ISO. */
  pauseUntil?: string;
}

export interface WaveDeps {
  registry: RegistryClient;
  drift: DriftClient;
  rollouts: RolloutStore;
  gates: Pick<RolloutGates, "open" | "close">;
  /** Reads outside a run's transaction. */
  db: Parameters<RolloutStore["get"]>[0];
  publish: PublishRollout;
  /** Applied-acks seen since the inventory was read (it ingests them in batches). */
  acks: SeenAcks;
  pollMs: number;
  /**
   * After a plan committed: the rollout answers need `config.changed` from now on, so the trigger
   * consumer starts at once rather than at its next check (until then answers read Postgres).
   */
  onStarted?: () => Promise<void>;
  /** Write `desired` once into the target overlay (the promote step's writeOnce). */
  write(
    input: PromoteInput,
    desired: (before: { revision: number; content: JsonObject }) => JsonObject,
  ): Promise<
    | { ok: true; before: { revision: number; content: JsonObject }; revision: number | null }
    | { ok: false; reason: string }
  >;
}

const everyoneIn = (step: StepOf<"promote">) => {
  const last = step.waves[step.waves.length - 1];
  return last !== undefined && "percent" in last && last.percent >= 100;
};

/**
 * `promote` with `strategy: waves`. The run's rollout gate opens on the target first (the
 * registry marks every later `config.changed` of the place, so SDKs ask here before applying;
 * with no gate open they apply without asking), then the plan (hold everyone at the target's
 * current revision) is committed before the write, so an instance that reads the new revision
 * finds it; the gate closes once the plan completed (or, in `app.ts`, was aborted). Then waves are
 * released one by one, each once the previous one's instances all run the promoted revision and the
 * pause passed. After the last wave the rollout completes (everyone may apply) and the step succeeds.
 * Any failure of the run aborts the rollout (the executor's `onStepFailed`): instances of later waves
 * keep holding the promoted revision and move on with the next one, the rollback's.
 */
export function createWaves(deps: WaveDeps) {
  const { rollouts } = deps;

  /** After the plan ended. Best effort: the sweep (rollout-gates.ts) closes one left open. */
  const closeGate = (run: PromoteInput["run"]) => deps.gates.close(run).catch(() => undefined);

  async function plan(input: PromoteInput): Promise<StepOutcome> {
    const { run, step } = input;
    // Before the plan commits: a revision committed after the plan is then always marked.
    await deps.gates.open(run);
    const resolved = await deps.registry.resolved(run.namespace, run.target);
    const state: WaveState = { holdRevision: resolved.revision };
    const base = {
      runId: run.id,
      pipeline: run.pipeline,
      namespace: run.namespace,
      environment: run.target,
      holdRevision: resolved.revision,
      waves: step.waves,
    };
    try {
      await input.checkpoint(state, {
        also: async (tx) => {
          await rollouts.start(tx, base);
          await deps.publish(
            tx,
            rolloutProgressed(
              { ...base, targetRevision: null, releasedWaves: 0, status: "active" },
              "started",
            ),
          );
        },
      });
    } catch (err) {
      if (!isAnotherActiveRollout(err)) throw err;
      await closeGate(run);
      const other = await rollouts.active(deps.db, run.namespace, run.target);
      return {
        kind: "failed",
        reason: `another rollout to ${run.target} is in progress (run ${other?.runId ?? "unknown"}); nothing was written`,
      };
    }
    await deps.onStarted?.();
    return advance({ ...input, state });
  }

  async function write(input: PromoteInput, state: WaveState): Promise<StepOutcome> {
    const { run } = input;
    const def: PipelineDefinition = run.definition;
    const source = await deps.registry.layerRevision(run.namespace, def.source, run.sourceRevision);
    if (!source) return { kind: "failed", reason: `revision ${run.sourceRevision} of ${def.source} is gone` };
    // The write's own checkpoint keeps the plan's state beside the layer it found.
    const merged: PromoteInput = {
      ...input,
      checkpoint: (s, extra) => input.checkpoint({ ...state, ...s }, extra),
    };
    const result = await deps.write(merged, (before) =>
      promotedContent(source, before.content, def.pinnedPaths),
    );
    if (!result.ok) return { kind: "failed", reason: result.reason };
    if (result.revision === null) {
      const now = await deps.registry.resolved(run.namespace, run.target);
      await input.checkpoint(
        { ...state, before: refOf(result.before) },
        { also: (tx) => complete(tx, run.id) },
      );
      await closeGate(run);
      return {
        kind: "succeeded",
        summary: `${run.target} already had ${def.source} revision ${run.sourceRevision}'s content; nothing written, no waves`,
        context: {
          targetBefore: refOf(result.before),
          promotedRevision: null,
          watchRevision: now.revision,
          promotedAt: input.now.toISOString(),
        },
      };
    }
    const revision = result.revision;
    const next: WaveState = {
      ...state,
      before: refOf(result.before),
      written: revision,
      released: 1,
      waveAt: input.now.toISOString(),
    };
    await input.checkpoint(next, {
      context: {
        targetBefore: refOf(result.before),
        promotedRevision: revision,
        watchRevision: revision,
        promotedAt: input.now.toISOString(),
      },
      also: (tx) => release(tx, run.id, 1, revision),
    });
    return waiting(next, `revision ${revision} written; wave 1 of ${input.step.waves.length} released`, 0);
  }

  async function release(tx: Parameters<PublishRollout>[0], runId: string, wave: number, revision: number) {
    await rollouts.release(tx, runId, wave, revision);
    const p = await rollouts.get(tx, runId);
    if (p) await deps.publish(tx, rolloutProgressed(p, "wave-released"));
  }

  async function complete(tx: Parameters<PublishRollout>[0], runId: string) {
    const p = await rollouts.finish(tx, runId, "completed");
    if (p) await deps.publish(tx, rolloutProgressed({ ...p, status: "completed" }, "completed"));
  }

  const waiting = (
    state: WaveState,
    progress: string,
    recheckMs: number,
  ): StepOutcome & { kind: "wait" } => ({
    kind: "wait",
    state,
    recheckMs,
    progress,
  });

  async function advance(input: PromoteInput): Promise<StepOutcome> {
    const { run, step, now } = input;
    const state = input.state as WaveState;
    if (state.written === undefined) return write(input, state);
    const revision = state.written;
    const released = state.released ?? 1;
    const planNow: RolloutPlan | null = await rollouts.get(deps.db, run.id);
    if (planNow?.status === "completed") {
      // Closed already, unless this instance stopped between the completion and the close.
      await closeGate(run);
      return {
        kind: "succeeded",
        summary: `revision ${revision} rolled out in ${step.waves.length} wave(s); every instance may apply it`,
      };
    }
    if (planNow?.status !== "active") return { kind: "failed", reason: "the rollout was aborted" };
    const [instances, labels] = await Promise.all([
      deps.drift.instances(run.namespace, run.target),
      step.waves.some((w) => "labels" in w)
        ? rollouts.memberLabels(deps.db, run.id)
        : Promise.resolve(new Map()),
    ]);
    const p = waveProgress(
      step.waves,
      released,
      withSeenAcks(instances, deps.acks(run.namespace, run.target)).map((i) => ({
        ...i,
        labels: labels.get(i.instanceId),
      })),
      revision,
    );
    const words = `wave ${released} of ${step.waves.length}: ${p.applied} of ${p.members} instance(s) on revision ${revision}${p.unplaced ? `, ${p.unplaced} not placed yet` : ""}${p.early ? `, ${p.early} outside the wave already on it` : ""}`;
    if (p.rejected.length > 0)
      return {
        kind: "failed",
        reason: `${words}; ${p.rejected.length} rejected it: ${p.rejected
          .slice(0, 3)
          .map((r) => `${r.instanceId}: ${r.reason}`)
          .join("; ")}`,
      };
    if (p.applied < p.members || p.unplaced > 0) {
      const leftMs =
        Date.parse(state.waveAt ?? now.toISOString()) + step.waveTimeoutSeconds * 1_000 - now.getTime();
      if (leftMs <= 0)
        return { kind: "failed", reason: `not applied within ${step.waveTimeoutSeconds} s: ${words}` };
      return {
        ...waiting(state, words, Math.min(leftMs, deps.pollMs)),
        wakeOnAcks: { revision, missing: Math.max(1, p.members - p.applied) },
      };
    }
    const last = released >= step.waves.length;
    if (!(last && everyoneIn(step))) {
      if (state.pauseUntil === undefined && step.pauseSeconds > 0) {
        const pauseUntil = new Date(now.getTime() + step.pauseSeconds * 1_000).toISOString();
        return waiting(
          { ...state, pauseUntil },
          `${words}; pausing ${step.pauseSeconds} s`,
          step.pauseSeconds * 1_000,
        );
      }
      const leftMs = state.pauseUntil ? Date.parse(state.pauseUntil) - now.getTime() : 0;
      if (leftMs > 0) return waiting(state, `${words}; pausing`, leftMs);
    }
    if (last) {
      await input.checkpoint(state, { also: (tx) => complete(tx, run.id) });
      await closeGate(run);
      return {
        kind: "succeeded",
        summary: `revision ${revision} rolled out in ${step.waves.length} wave(s); every instance may apply it now`,
      };
    }
    const next: WaveState = { ...state, released: released + 1, waveAt: now.toISOString() };
    delete next.pauseUntil;
    await input.checkpoint(next, { also: (tx) => release(tx, run.id, released + 1, revision) });
    return waiting(next, `${words}; wave ${released + 1} released`, 0);
  }

  return { plan, advance };
}
export type Waves = ReturnType<typeof createWaves>;
