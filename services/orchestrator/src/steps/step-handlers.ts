import type { Pool } from "@nexus/kit";
import type { DriftClient } from "../clients/drift-client.js";
import type { MonitorClient } from "../clients/monitor-client.js";
import type { RegistryClient } from "../clients/registry-client.js";
import type { PublishRollout } from "../rollouts/rollout-events.js";
import type { RolloutStore } from "../rollouts/rollout-store.js";
import { createHttpHookStep, createRunStep } from "./action-steps.js";
import { createApproveStep, type DecisionsOf } from "./approve-step.js";
import type { CommandRunner } from "./command-runner.js";
import {
  createPreview,
  createPromoteStep,
  createRollbackStep,
  type LastPassedRevision,
  promotionAuthor,
  writeOnce,
} from "./promote-step.js";
import type { SeenAcks, StepHandlers } from "./step-types.js";
import { createValidateStep } from "./validate-step.js";
import { createHealthGateStep, createWaitAppliedStep } from "./watch-steps.js";
import { createWaves, type WaveDeps } from "./wave-promote-step.js";

export function createStepHandlers(deps: {
  registry: RegistryClient;
  drift: DriftClient;
  monitor: MonitorClient | undefined;
  runner: CommandRunner;
  decisions: DecisionsOf;
  lastPassed: LastPassedRevision;
  signingKey: string;
  allowedHookUrls: readonly string[];
  commandPath: string;
  allowedCommands: readonly string[];
  /** How often wait-applied and health-gate look again. */
  watchPollMs: number;
  pool: Pool;
  rollouts: RolloutStore;
  gates: WaveDeps["gates"];
  publishRollout: PublishRollout;
  /** Applied-acks seen while runs wait on their target. */
  acks: SeenAcks;
  onRolloutStarted?: WaveDeps["onStarted"];
}): StepHandlers {
  const { registry, drift } = deps;
  const waves = createWaves({
    registry,
    drift,
    rollouts: deps.rollouts,
    gates: deps.gates,
    db: deps.pool,
    publish: deps.publishRollout,
    acks: deps.acks,
    pollMs: deps.watchPollMs,
    ...(deps.onRolloutStarted ? { onStarted: deps.onRolloutStarted } : {}),
    write: (input, desired) =>
      writeOnce(
        registry,
        input,
        desired,
        `promoted from ${input.run.source} revision ${input.run.sourceRevision} in waves by pipeline ${input.run.pipeline} run ${input.run.id}`,
        promotionAuthor(input.run.pipeline),
      ),
  });
  return {
    validate: createValidateStep({ registry }),
    approve: createApproveStep({ decisions: deps.decisions, preview: createPreview(registry) }),
    promote: createPromoteStep({ registry, waves }),
    "wait-applied": createWaitAppliedStep({ drift, acks: deps.acks, pollMs: deps.watchPollMs }),
    "health-gate": createHealthGateStep({ drift, monitor: deps.monitor, pollMs: deps.watchPollMs }),
    "http-hook": createHttpHookStep({ signingKey: deps.signingKey, allowedUrls: deps.allowedHookUrls }),
    run: createRunStep({
      registry,
      runner: deps.runner,
      path: deps.commandPath,
      allowedCommands: deps.allowedCommands,
    }),
    rollback: createRollbackStep({ registry, lastPassed: deps.lastPassed }),
  };
}
