import {
  type EventData,
  type EventType,
  PIPELINE_APPROVED,
  PIPELINE_AWAITING_APPROVAL,
  PIPELINE_FAILED,
  PIPELINE_ROLLED_BACK,
  PIPELINE_STEP_FAILED,
  PIPELINE_STEP_STARTED,
  PIPELINE_STEP_SUCCEEDED,
  PIPELINE_SUCCEEDED,
} from "@nexus/contracts";
import { type Bus, enqueueEvent, type Pool, type PoolClient, withTransaction } from "@nexus/kit";
import type { StepDefinition } from "../pipelines/pipeline-types.js";
import type { StepOutcome } from "../steps/step-types.js";
import { AUTO_ROLLBACK_STEP, clip, runFacts, stepRef } from "./run-event-fns.js";
import type { RunPatch, RunStore } from "./run-store.js";
import type { RunRow, StepRow } from "./run-types.js";

/** Another instance holds the run now (this one's claim expired): stop without writing. */
export class LostClaim extends Error {}

/** Where a run goes on: its row and its current step, already committed as started. */
export interface Next {
  run: RunRow;
  step: StepRow;
  /** The step was committed as started by this transition (not left `running` by a dead instance). */
  started: boolean;
}

/** Work that must wait for a transaction's commit (it acts on what the transaction decided). */
export type AfterCommit = () => Promise<void>;

/**
 * The committed transitions of a run, each one transaction that first checks this instance still
 * holds the run (`lockOwned`). A step's outcome and the start of the next step commit together
 * (one transaction between two steps, not three, and no reads in between): the next step is
 * still committed as started before it runs.
 */
export function createRunTransitions(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  runs: RunStore;
  owner: string;
  outboxChannel: string;
  /**
   * Runs in the transaction of every step failure (a wave rollout is aborted there); what it
   * returns runs once that transaction committed (its rollout gate closes then).
   */
  onStepFailed?: (tx: PoolClient, run: RunRow) => Promise<AfterCommit | undefined>;
}) {
  const { pool, bus, runs, owner } = deps;

  const publish = <T extends EventType>(tx: PoolClient, type: T, data: EventData<T>) =>
    enqueueEvent(tx, bus, type, data, { channel: deps.outboxChannel });

  async function transition<T>(runId: string, fn: (tx: PoolClient, run: RunRow) => Promise<T>): Promise<T> {
    const result = await withTransaction(pool, async (tx) => {
      const run = await runs.lockOwned(tx, runId, owner);
      if (!run) return { held: false as const };
      return { held: true as const, value: await fn(tx, run) };
    });
    if (!result.held) throw new LostClaim();
    return result.value;
  }

  async function finishSucceeded(tx: PoolClient, r: RunRow, patch: RunPatch = {}): Promise<null> {
    await runs.updateRun(tx, r.id, { ...patch, status: "succeeded", finished: true });
    await publish(tx, PIPELINE_SUCCEEDED, {
      ...runFacts(r),
      promotedRevision: (patch.context ?? r.context).promotedRevision ?? null,
    });
    await runs.release(tx, r.id, 0);
    return null;
  }

  async function startIn(tx: PoolClient, r: RunRow, index: number): Promise<StepRow> {
    const step = await runs.startStep(tx, r.id, index);
    if (!step) throw new Error(`run ${r.id} has no step ${index}`);
    await publish(tx, PIPELINE_STEP_STARTED, { ...runFacts(r), step: stepRef(step), attempt: step.attempts });
    return step;
  }

  /**
   * Apply `patch` and go on in the same transaction: the run succeeds when it has no step left,
   * else its next step is committed as started (unless it is cancelled or this instance stops:
   * the next claimant starts it).
   */
  async function goOn(tx: PoolClient, r: RunRow, patch: RunPatch, startNext: boolean): Promise<Next | null> {
    const run: RunRow = {
      ...r,
      status: patch.status ?? r.status,
      currentStep: patch.currentStep ?? r.currentStep,
      context: patch.context ?? r.context,
      failure: patch.failure !== undefined ? patch.failure : r.failure,
    };
    if (run.status !== "rolling-back" && run.currentStep >= run.definition.steps.length)
      return finishSucceeded(tx, r, patch);
    await runs.updateRun(tx, r.id, patch);
    const started = startNext && !(run.cancelRequestedBy !== null && run.status !== "rolling-back");
    const step = started
      ? await startIn(tx, run, run.currentStep)
      : await runs.step(tx, r.id, run.currentStep);
    if (!step) throw new Error(`run ${r.id} has no step ${run.currentStep}`);
    return { run, step, started };
  }

  return {
    transition,

    /** Commit a step as started (its next attempt). */
    start: (runId: string, index: number): Promise<Next> =>
      transition(runId, async (tx, r) => ({ run: r, step: await startIn(tx, r, index), started: true })),

    /** A run past its last step (resumed after the commit of its last step): it succeeded. */
    finish: (runId: string) => transition(runId, (tx, r) => finishSucceeded(tx, r)),

    /** Give the run back now (this instance stops). */
    release: (runId: string) => transition(runId, (tx) => runs.release(tx, runId, 0)),

    async succeed(
      run: RunRow,
      step: StepRow,
      def: StepDefinition,
      outcome: StepOutcome & { kind: "succeeded" },
      startNext: boolean,
    ): Promise<Next | null> {
      const automatic = run.status === "rolling-back";
      return transition(run.id, async (tx, r) => {
        const context = { ...r.context, ...outcome.context };
        const summary = clip(outcome.summary, 1000);
        await runs.updateStep(tx, r.id, step.index, {
          status: "succeeded",
          summary,
          output: outcome.output ?? null,
          finished: true,
        });
        await publish(tx, PIPELINE_STEP_SUCCEEDED, { ...runFacts(r), step: stepRef(step), summary });
        if (def.type === "approve" && outcome.approvers?.length)
          await publish(tx, PIPELINE_APPROVED, {
            ...runFacts(r),
            step: stepRef(step),
            approvers: outcome.approvers,
          });
        if (def.type === "rollback" && context.rollback)
          await publish(tx, PIPELINE_ROLLED_BACK, {
            ...runFacts(r),
            ...context.rollback,
            reason: clip(automatic ? (r.failure ?? "a step failed") : "the pipeline's rollback step"),
          });
        if (!automatic)
          return goOn(tx, r, { status: "running", currentStep: step.index + 1, context }, startNext);
        await runs.updateRun(tx, r.id, { status: "rolled-back", context, finished: true });
        await publish(tx, PIPELINE_FAILED, {
          ...runFacts(r),
          step: null,
          reason: clip(r.failure ?? "a step failed"),
          rolledBack: true,
        });
        await runs.release(tx, r.id, 0);
        return null;
      });
    },

    async fail(
      run: RunRow,
      step: StepRow,
      def: StepDefinition,
      reason: string,
      output: string | undefined,
      startNext: boolean,
    ): Promise<Next | null> {
      let afterCommit: AfterCommit | undefined;
      const next = await transition(run.id, async (tx, r) => {
        await runs.updateStep(tx, r.id, step.index, {
          status: "failed",
          summary: clip(reason, 1000),
          output: output ?? null,
          finished: true,
        });
        await publish(tx, PIPELINE_STEP_FAILED, {
          ...runFacts(r),
          step: stepRef(step),
          reason: clip(reason),
        });
        afterCommit = await deps.onStepFailed?.(tx, r);
        const failure = `${step.name}: ${reason}`;
        const wrote = r.context.targetBefore !== undefined && r.context.promotedRevision != null;
        if (
          r.status !== "rolling-back" &&
          def.type !== "rollback" &&
          r.definition.rollbackOnFailure &&
          wrote
        ) {
          const index = r.definition.steps.length;
          await runs.addStep(tx, r.id, index, AUTO_ROLLBACK_STEP.name, AUTO_ROLLBACK_STEP.type);
          return goOn(
            tx,
            r,
            { status: "rolling-back", currentStep: index, failure: clip(failure) },
            startNext,
          );
        }
        const final =
          r.status === "rolling-back"
            ? `${r.failure ?? "a step failed"}; the rollback failed too: ${reason}`
            : failure;
        await runs.updateRun(tx, r.id, { status: "failed", failure: clip(final), finished: true });
        await publish(tx, PIPELINE_FAILED, {
          ...runFacts(r),
          step: stepRef(step),
          reason: clip(final),
          rolledBack: false,
        });
        await runs.release(tx, r.id, 0);
        return null;
      });
      await afterCommit?.();
      return next;
    },

    /**
     * Store a waiting step's state and progress; `release` gives the run back until its next look
     * (any instance continues it), otherwise this instance keeps it and looks again itself.
     */
    async wait(run: RunRow, step: StepRow, outcome: StepOutcome & { kind: "wait" }, release: boolean) {
      await transition(run.id, async (tx, r) => {
        await runs.updateStep(tx, r.id, step.index, {
          status: "waiting",
          state: outcome.state,
          summary: outcome.progress,
          ...(outcome.output !== undefined ? { output: outcome.output } : {}),
        });
        if (outcome.awaitingApproval && r.status !== "awaiting-approval") {
          await runs.updateRun(tx, r.id, { status: "awaiting-approval" });
          await publish(tx, PIPELINE_AWAITING_APPROVAL, {
            ...runFacts(r),
            step: stepRef(step),
            approvalsRequired: outcome.awaitingApproval.required,
            approvalsGiven: outcome.awaitingApproval.given,
            author: r.startedBy,
          });
        }
        if (release) await runs.release(tx, r.id, outcome.recheckMs);
      });
    },

    /** A step whose dependency is away waits (not a new attempt) and the run is looked at later. */
    async retryLater(run: RunRow, step: StepRow, why: string, retryMs: number) {
      await transition(run.id, async (tx) => {
        await runs.updateStep(tx, run.id, step.index, {
          status: "waiting",
          summary: clip(`retrying: ${why}`, 1000),
        });
        await runs.release(tx, run.id, retryMs);
      });
    },
  };
}
export type RunTransitions = ReturnType<typeof createRunTransitions>;
