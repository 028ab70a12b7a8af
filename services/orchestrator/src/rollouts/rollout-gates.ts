import type { Logger, Pool } from "@nexus/kit";
import type { RegistryClient } from "../clients/registry-client.js";
import type { RolloutStore } from "./rollout-store.js";

/** Ended plans whose gates one sweep closes at most. */
const SWEEP_BATCH = 100;

export interface GatedRun {
  id: string;
  namespace: string;
  /** The environment rolled out to (the run's target). */
  target: string;
}

/**
 * A run's rollout gate at the registry (`nexus.config.cmd.rollout-gate`): opened before its
 * plan commits, closed after the plan ends. While open, the place's `config.changed` events tell
 * SDKs to ask this service before applying; closed, they apply without asking. A gate left open
 * costs only those questions, never a wrong answer, so a close that fails is retried by the
 * sweep, not by the step: every gate is recorded (`rollout_gates`) before it is opened, and the
 * sweep closes those whose plan ended, or whose run ended without committing a plan.
 */
export function createRolloutGates(deps: {
  registry: Pick<RegistryClient, "rolloutGate">;
  rollouts: Pick<RolloutStore, "recordGateOpening" | "gatesLeftOpen" | "markGateClosed">;
  pool: Pool;
  logger: Pick<Logger, "warn">;
}) {
  const { registry, rollouts, pool } = deps;
  let timer: NodeJS.Timeout | undefined;

  async function close(run: GatedRun): Promise<void> {
    await registry.rolloutGate({
      namespace: run.namespace,
      environment: run.target,
      runId: run.id,
      open: false,
    });
    await rollouts.markGateClosed(pool, run.id);
  }

  /** Close the gates of ended plans not known closed; how many were closed. */
  async function sweep(): Promise<number> {
    let closed = 0;
    for (const g of await rollouts.gatesLeftOpen(pool, SWEEP_BATCH)) {
      try {
        await close({ id: g.runId, namespace: g.namespace, target: g.environment });
        closed++;
      } catch (err) {
        deps.logger.warn(
          { err, runId: g.runId },
          `could not close the rollout gate of run ${g.runId} on ${g.namespace}/${g.environment} (instances there keep asking before they apply); trying again later`,
        );
      }
    }
    return closed;
  }

  return {
    /** Recorded first: a gate opened but never recorded would be closed by nothing. */
    async open(run: GatedRun): Promise<void> {
      await rollouts.recordGateOpening(pool, {
        runId: run.id,
        namespace: run.namespace,
        environment: run.target,
      });
      await registry.rolloutGate({
        namespace: run.namespace,
        environment: run.target,
        runId: run.id,
        open: true,
      });
    },
    close,
    sweep,
    /** Sweep now and then every `everyMs` (every instance may: closing is idempotent). */
    start(everyMs: number) {
      const tick = () =>
        void sweep()
          .catch((err: unknown) => deps.logger.warn({ err }, "the rollout gate sweep did not run (Postgres)"))
          .finally(() => {
            if (timer) timer = setTimeout(tick, everyMs).unref();
          });
      timer = setTimeout(tick, 0).unref();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
export type RolloutGates = ReturnType<typeof createRolloutGates>;
