import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Bus, isAppError, type Logger, type Pool, type PoolClient } from "@nexus/kit";
import type { StepDefinition } from "../pipelines/pipeline-types.js";
import type {
  CheckpointExtra,
  JsonObject,
  StepHandler,
  StepHandlers,
  StepOutcome,
} from "../steps/step-types.js";
import type { AppliedAcks } from "./applied-acks.js";
import { AUTO_ROLLBACK_STEP } from "./run-event-fns.js";
import type { RunStore } from "./run-store.js";
import { type AfterCommit, createRunTransitions, LostClaim } from "./run-transitions.js";
import type { RunRow, StepRow } from "./run-types.js";

export interface ExecutorConfig {
  /** A claim not renewed for this long is free for another instance. */
  leaseMs: number;
  /** How often an idle loop looks for due runs. */
  pollMs: number;
  /** Runs driven at once by this instance. */
  concurrency: number;
  /** A step whose dependency is away looks again after this long. */
  retryMs: number;
  /**
   * A waiting step that looks again within this long keeps its run here (claim renewed, no
   * give-back and re-claim per look) while another of this instance's loops is free.
   */
  holdMs?: number;
  /** The outbox channel of this service's relay. */
  outboxChannel: string;
}

/** Steps that wait for instances to apply a revision: their runs follow the target's applied-acks. */
const followsAcks = (def: StepDefinition) => def.type === "wait-applied" || def.type === "promote";

/**
 * Drives runs: claims a due run (row claim with SKIP LOCKED and a lease), and for its current step
 * commits "started" (with the event), runs the handler, and commits the outcome (with its events,
 * and the next step's start) before the handler of the next one. A step that waits briefly keeps
 * its run here and looks again when its time comes or when the instances it waits for ack (the
 * target's applied-acks); a long wait (an approval, a pause) gives the run back until its next
 * look. A dead instance's claim expires and another resumes the run at the step it was on. Every
 * commit checks the claim is still this instance's, so two instances never both advance a run.
 */
export function createExecutor(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  logger: Logger;
  runs: RunStore;
  handlers: StepHandlers;
  config: ExecutorConfig;
  /** The target's applied-acks, followed while a run waits on instances here. */
  acks?: Pick<AppliedAcks, "watch">;
  /** Runs in the transaction of every step failure (a wave rollout is aborted there); see run-transitions. */
  onStepFailed?: (tx: PoolClient, run: RunRow) => Promise<AfterCommit | undefined>;
}) {
  const { pool, logger, runs, handlers, config } = deps;
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const holdMs = config.holdMs ?? 5_000;
  let stopped = true;
  let loops: Promise<void>[] = [];
  let busy = 0;
  const sleepers = new Set<() => void>();
  const t = createRunTransitions({
    pool,
    bus: deps.bus,
    runs,
    owner,
    outboxChannel: config.outboxChannel,
    ...(deps.onStepFailed ? { onStepFailed: deps.onStepFailed } : {}),
  });

  const stepOf = (run: RunRow, index: number): StepDefinition =>
    run.definition.steps[index] ?? { type: "rollback", name: AUTO_ROLLBACK_STEP.name };

  /** A wait this instance sits out itself: short, not an approval, and a loop is free for other runs. */
  const mayHold = (outcome: StepOutcome & { kind: "wait" }) =>
    !outcome.awaitingApproval && outcome.recheckMs <= holdMs && busy < config.concurrency;

  /** Applied-acks of the run's target since the drive began (their revisions, in arrival order). */
  interface AckFollow {
    revisions: number[];
    listener: (() => void) | undefined;
    stop(): void;
  }

  function follow(run: RunRow): AckFollow | undefined {
    if (!deps.acks) return undefined;
    const f: AckFollow = { revisions: [], listener: undefined, stop: () => undefined };
    const watch = deps.acks.watch(run.namespace, run.target, (ack) => {
      f.revisions.push(ack.revision);
      f.listener?.();
    });
    f.stop = () => watch.stop();
    return f;
  }

  /**
   * Sleep until the next look: `recheckMs` passed, or enough instances acked the awaited revision
   * since the look began (`from`: the acks seen then), or the executor stops.
   */
  function sleepUntilLook(
    outcome: StepOutcome & { kind: "wait" },
    acks: AckFollow | undefined,
    from: number,
  ) {
    return new Promise<void>((resolve) => {
      const wanted = outcome.wakeOnAcks;
      const enough = () => {
        if (!wanted || !acks) return false;
        let n = 0;
        for (let i = from; i < acks.revisions.length; i++)
          if ((acks.revisions[i] ?? -1) >= wanted.revision) n += 1;
        return n >= wanted.missing;
      };
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        if (acks) acks.listener = undefined;
        resolve();
      };
      const timer = setTimeout(done, outcome.recheckMs);
      sleepers.add(done);
      if (acks && wanted) acks.listener = () => enough() && done();
      if (enough() || stopped) done();
    });
  }

  /** Finish every step that can finish now; return when the run waits, ends, or is no longer ours. */
  async function drive(claimed: RunRow, claim: { lost: boolean }): Promise<void> {
    let run = claimed;
    let step = await runs.step(pool, run.id, run.currentStep);
    let acks: AckFollow | undefined;
    let savedAt = 0;
    /** This drive committed the current step as started (else `running` means its instance died). */
    let started = false;
    try {
      for (;;) {
        if (stopped) return await t.release(run.id);
        if (run.status !== "rolling-back" && run.currentStep >= run.definition.steps.length) {
          await t.finish(run.id);
          return;
        }
        if (!step) throw new Error(`run ${run.id} has no step ${run.currentStep}`);
        const def = stepOf(run, run.currentStep);
        // A cancelled run stops at the step it is on (and rolls back what it promoted, like a failure).
        if (run.cancelRequestedBy && run.status !== "rolling-back") {
          const next = await t.fail(
            run,
            step,
            def,
            `cancelled by ${run.cancelRequestedBy}`,
            undefined,
            !stopped,
          );
          if (!next) return;
          ({ run, step, started } = next);
          continue;
        }
        // "running" here means the instance that started it died: this is its next attempt.
        if (!started && (step.status === "pending" || step.status === "running"))
          ({ run, step, started } = await t.start(run.id, step.index));
        if (!acks && followsAcks(def)) acks = follow(run);
        const lookFrom = acks?.revisions.length ?? 0;
        const outcome = await runStep(run, step, def);
        if (!outcome) return;
        if (outcome.kind === "wait") {
          if (!mayHold(outcome) || claim.lost) return await t.wait(run, step, outcome, true);
          // Kept here: commit what a reader (or a resuming instance) must see, and progress at most once a second.
          const changed = JSON.stringify(outcome.state) !== JSON.stringify(step.state);
          if (step.status !== "waiting" || changed || Date.now() - savedAt >= 1_000) {
            await t.wait(run, step, outcome, false);
            savedAt = Date.now();
            step = { ...step, status: "waiting", state: outcome.state, summary: outcome.progress };
          }
          await sleepUntilLook(outcome, acks, lookFrom);
          // Read again: a cancel (from any instance) is seen at the next look.
          const fresh = await runs.get(pool, run.id);
          if (!fresh) return;
          run = fresh;
          continue;
        }
        const next =
          outcome.kind === "succeeded"
            ? await t.succeed(run, step, def, outcome, !stopped)
            : await t.fail(run, step, def, outcome.reason, outcome.output, !stopped);
        if (!next) return;
        ({ run, step, started } = next);
        if (acks && !followsAcks(stepOf(run, run.currentStep))) {
          acks.stop();
          acks = undefined;
        }
      }
    } finally {
      acks?.stop();
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
          t.transition(run.id, async (tx, r) => {
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
      // Waiting, not running: looking again is not a new attempt of the step.
      await t.retryLater(run, step, why, config.retryMs);
      return null;
    }
  }

  async function processClaimed(run: RunRow): Promise<void> {
    const claim = { lost: false };
    const renew = setInterval(
      () => {
        void runs
          .renew(pool, run.id, owner, config.leaseMs)
          .then((held) => {
            if (!held) claim.lost = true;
          })
          .catch(() => undefined);
      },
      Math.max(50, Math.floor(config.leaseMs / 3)),
    );
    busy += 1;
    try {
      await drive(run, claim);
    } catch (err) {
      if (err instanceof LostClaim)
        logger.warn({ runId: run.id }, `run ${run.id} was taken over by another instance`);
      else
        logger.error(
          { err, runId: run.id },
          `run ${run.id} failed unexpectedly; it resumes after its claim expires`,
        );
    } finally {
      busy -= 1;
      clearInterval(renew);
    }
  }

  /** Idle loops sleeping until `ms` passed (when given) or they are woken. */
  const idle = new Set<() => void>();
  const sleep = (ms?: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        idle.delete(done);
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      idle.add(done);
    });
  const wakeIdle = () => {
    for (const s of [...idle]) s();
  };
  /** Idle loops and held waits. */
  const wakeAll = () => {
    wakeIdle();
    for (const s of [...sleepers]) s();
  };
  /** Whether an idle loop is already timing the next look. */
  let scouting = false;

  async function loop(): Promise<void> {
    while (!stopped) {
      let claimed: RunRow | null = null;
      try {
        claimed = await runs.claimNext(pool, owner, config.leaseMs);
      } catch (err) {
        logger.warn({ err }, "could not look for runs (Postgres); trying again");
      }
      if (claimed) {
        // Where there was one due run there may be more: the idle loops look too.
        wakeIdle();
        await processClaimed(claimed);
      } else if (!scouting) {
        // One idle loop looks again every pollMs; the others sleep until it (or a start or an
        // approval here) finds work. An idle instance asks Postgres once per poll, not once per loop.
        scouting = true;
        try {
          await sleep(config.pollMs);
        } finally {
          scouting = false;
        }
      } else await sleep();
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
    wake: wakeAll,
    /** Let the steps in progress finish, give their runs back, stop looking. */
    async stop() {
      stopped = true;
      wakeAll();
      await Promise.all(loops);
      loops = [];
    },
  };
}
export type Executor = ReturnType<typeof createExecutor>;
