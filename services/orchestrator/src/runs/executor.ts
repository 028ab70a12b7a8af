import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
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
import {
  type Bus,
  enqueueEvent,
  isAppError,
  type Logger,
  type Pool,
  type PoolClient,
  withTransaction,
} from "@nexus/kit";
import type { StepDefinition } from "../pipelines/pipeline-types.js";
import type {
  CheckpointExtra,
  JsonObject,
  StepHandler,
  StepHandlers,
  StepOutcome,
} from "../steps/step-types.js";
import { AUTO_ROLLBACK_STEP, clip, runFacts, stepRef } from "./run-event-fns.js";
import type { RunStore } from "./run-store.js";
import type { RunRow, StepRow } from "./run-types.js";

/** Another instance holds the run now (this one's claim expired): stop without writing. */
class LostClaim extends Error {}

export interface ExecutorConfig {
  /** A claim not renewed for this long is free for another instance. */
  leaseMs: number;
  /** How often an idle loop looks for due runs. */
  pollMs: number;
  /** Runs driven at once by this instance. */
  concurrency: number;
  /** A step whose dependency is away looks again after this long. */
  retryMs: number;
  /** The outbox channel of this service's relay. */
  outboxChannel: string;
}

/**
 * Drives runs: claims a due run (row claim with SKIP LOCKED and a lease), and for its current step
 * commits "started" (with the event), runs the handler, and commits the outcome (with its events)
 * before the next one. A waiting step gives the run back until its next look; a dead instance's
 * claim expires and another resumes the run at the step it was on. Every commit checks the claim is
 * still this instance's, so two instances never both advance a run.
 */
export function createExecutor(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  logger: Logger;
  runs: RunStore;
  handlers: StepHandlers;
  config: ExecutorConfig;
  /** Runs in the transaction of every step failure (a wave rollout is aborted there). */
  onStepFailed?: (tx: PoolClient, run: RunRow) => Promise<void>;
}) {
  const { pool, bus, logger, runs, handlers, config } = deps;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  let stopped = true;
  let loops: Promise<void>[] = [];
  const sleepers = new Set<() => void>();

  const publish = <T extends EventType>(tx: PoolClient, type: T, data: EventData<T>) =>
    enqueueEvent(tx, bus, type, data, { channel: config.outboxChannel });

  /** One transition of a run, only while this instance holds it. */
  async function transition(
    runId: string,
    fn: (tx: PoolClient, run: RunRow) => Promise<void>,
  ): Promise<void> {
    const held = await withTransaction(pool, async (tx) => {
      const run = await runs.lockOwned(tx, runId, owner);
      if (!run) return false;
      await fn(tx, run);
      return true;
    });
    if (!held) throw new LostClaim();
  }

  const stepOf = (run: RunRow, index: number): StepDefinition =>
    run.definition.steps[index] ?? { type: "rollback", name: AUTO_ROLLBACK_STEP.name };

  async function succeed(
    run: RunRow,
    step: StepRow,
    def: StepDefinition,
    outcome: StepOutcome & { kind: "succeeded" },
  ) {
    const automatic = run.status === "rolling-back";
    await transition(run.id, async (tx, r) => {
      const context = { ...r.context, ...outcome.context };
      await runs.updateStep(tx, r.id, step.index, {
        status: "succeeded",
        summary: clip(outcome.summary, 1000),
        output: outcome.output ?? null,
        finished: true,
      });
      await publish(tx, PIPELINE_STEP_SUCCEEDED, {
        ...runFacts(r),
        step: stepRef(step),
        summary: clip(outcome.summary, 1000),
      });
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
      if (automatic) {
        await runs.updateRun(tx, r.id, { status: "rolled-back", context, finished: true });
        await publish(tx, PIPELINE_FAILED, {
          ...runFacts(r),
          step: null,
          reason: clip(r.failure ?? "a step failed"),
          rolledBack: true,
        });
        await runs.release(tx, r.id, 0);
      } else {
        await runs.updateRun(tx, r.id, { status: "running", currentStep: step.index + 1, context });
      }
    });
    return !automatic;
  }

  async function fail(run: RunRow, step: StepRow, def: StepDefinition, reason: string, output?: string) {
    let goesOn = false;
    await transition(run.id, async (tx, r) => {
      await runs.updateStep(tx, r.id, step.index, {
        status: "failed",
        summary: clip(reason, 1000),
        output: output ?? null,
        finished: true,
      });
      await publish(tx, PIPELINE_STEP_FAILED, { ...runFacts(r), step: stepRef(step), reason: clip(reason) });
      await deps.onStepFailed?.(tx, r);
      const failure = `${step.name}: ${reason}`;
      const wrote = r.context.targetBefore !== undefined && r.context.promotedRevision != null;
      if (r.status !== "rolling-back" && def.type !== "rollback" && r.definition.rollbackOnFailure && wrote) {
        const index = r.definition.steps.length;
        await runs.addStep(tx, r.id, index, AUTO_ROLLBACK_STEP.name, AUTO_ROLLBACK_STEP.type);
        await runs.updateRun(tx, r.id, {
          status: "rolling-back",
          currentStep: index,
          failure: clip(failure),
        });
        goesOn = true;
        return;
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
    });
    return goesOn;
  }

  async function wait(run: RunRow, step: StepRow, outcome: StepOutcome & { kind: "wait" }) {
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
      await runs.release(tx, r.id, outcome.recheckMs);
    });
  }

  /** Finish every step that can finish now; return when the run waits, ends, or is no longer ours. */
  async function drive(runId: string): Promise<void> {
    for (;;) {
      const run = await runs.get(pool, runId);
      if (!run) return;
      if (stopped) return transition(runId, (tx) => runs.release(tx, runId, 0));
      if (run.status !== "rolling-back" && run.currentStep >= run.definition.steps.length) {
        return transition(runId, async (tx, r) => {
          await runs.updateRun(tx, r.id, { status: "succeeded", finished: true });
          await publish(tx, PIPELINE_SUCCEEDED, {
            ...runFacts(r),
            promotedRevision: r.context.promotedRevision ?? null,
          });
          await runs.release(tx, r.id, 0);
        });
      }
      let step = await runs.step(pool, runId, run.currentStep);
      if (!step) throw new Error(`run ${runId} has no step ${run.currentStep}`);
      const def = stepOf(run, run.currentStep);
      // A cancelled run stops at the step it is on (and rolls back what it promoted, like a failure).
      if (run.cancelRequestedBy && run.status !== "rolling-back") {
        if (await fail(run, step, def, `cancelled by ${run.cancelRequestedBy}`)) continue;
        return;
      }
      if (step.status === "pending" || step.status === "running") {
        // "running" here means the instance that started it died: this is its next attempt.
        const attempt = step.attempts + 1;
        const started = step;
        await transition(runId, async (tx, r) => {
          await runs.updateStep(tx, r.id, started.index, {
            status: "running",
            attempts: attempt,
            started: true,
          });
          await publish(tx, PIPELINE_STEP_STARTED, { ...runFacts(r), step: stepRef(started), attempt });
        });
        step = (await runs.step(pool, runId, run.currentStep)) ?? step;
      }
      const outcome = await runStep(run, step, def);
      if (!outcome) return;
      if (outcome.kind === "wait") return wait(run, step, outcome);
      const goesOn =
        outcome.kind === "succeeded"
          ? await succeed(run, step, def, outcome)
          : await fail(run, step, def, outcome.reason, outcome.output);
      if (!goesOn) return;
    }
  }

  /** The handler's outcome; null when the step must be looked at again later (a dependency is away). */
  async function runStep(run: RunRow, step: StepRow, def: StepDefinition): Promise<StepOutcome | null> {
    const handler = handlers[def.type] as StepHandler;
    try {
      return await handler({
        run,
        step: def,
        index: step.index,
        state: step.state,
        startedAt: step.startedAt ?? new Date(),
        now: new Date(),
        checkpoint: (state: JsonObject, extra?: CheckpointExtra) =>
          transition(run.id, async (tx, r) => {
            await runs.checkpoint(tx, run.id, step.index, state);
            if (extra?.context)
              await runs.updateRun(tx, r.id, { context: { ...r.context, ...extra.context } });
            await extra?.also?.(tx);
          }),
      });
    } catch (err) {
      if (err instanceof LostClaim) throw err;
      if (isAppError(err) && err.statusCode < 500) return { kind: "failed", reason: err.message };
      const why = err instanceof Error ? err.message : String(err);
      logger.warn(
        { err, runId: run.id, step: step.name },
        `step ${step.name} of run ${run.id} will retry: ${why}`,
      );
      await transition(run.id, async (tx) => {
        // Waiting, not running: looking again is not a new attempt of the step.
        await runs.updateStep(tx, run.id, step.index, {
          status: "waiting",
          summary: clip(`retrying: ${why}`, 1000),
        });
        await runs.release(tx, run.id, config.retryMs);
      });
      return null;
    }
  }

  async function processClaimed(run: RunRow): Promise<void> {
    const renew = setInterval(
      () => {
        void runs.renew(pool, run.id, owner, config.leaseMs).catch(() => undefined);
      },
      Math.max(50, Math.floor(config.leaseMs / 3)),
    );
    try {
      await drive(run.id);
    } catch (err) {
      if (err instanceof LostClaim)
        logger.warn({ runId: run.id }, `run ${run.id} was taken over by another instance`);
      else
        logger.error(
          { err, runId: run.id },
          `run ${run.id} failed unexpectedly; it resumes after its claim expires`,
        );
    } finally {
      clearInterval(renew);
    }
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
    });

  async function loop(): Promise<void> {
    while (!stopped) {
      let claimed: RunRow | null = null;
      try {
        claimed = await runs.claimNext(pool, owner, config.leaseMs);
      } catch (err) {
        logger.warn({ err }, "could not look for runs (Postgres); trying again");
      }
      if (claimed) await processClaimed(claimed);
      else await sleep(config.pollMs);
    }
  }

  return {
    owner,
    start() {
      if (!stopped) return;
      stopped = false;
      loops = Array.from({ length: config.concurrency }, () => loop());
    },
    /** Look for due runs now (a run was started or approved here). */
    wake() {
      for (const s of [...sleepers]) s();
    },
    /** Let the steps in progress finish, give their runs back, stop looking. */
    async stop() {
      stopped = true;
      for (const s of [...sleepers]) s();
      await Promise.all(loops);
      loops = [];
    },
  };
}
export type Executor = ReturnType<typeof createExecutor>;
