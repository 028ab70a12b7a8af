import type { DriftClient } from "../clients/drift-client.js";
import type { RegistryClient } from "../clients/registry-client.js";
import { createHttpHookStep, createRunStep } from "./action-steps.js";
import { createApproveStep, type DecisionsOf } from "./approve-step.js";
import type { CommandRunner } from "./command-runner.js";
import {
  createPreview,
  createPromoteStep,
  createRollbackStep,
  type LastPassedRevision,
} from "./promote-step.js";
import type { StepHandlers } from "./step-types.js";
import { createValidateStep } from "./validate-step.js";
import { createHealthGateStep, createWaitAppliedStep } from "./watch-steps.js";

export function createStepHandlers(deps: {
  registry: RegistryClient;
  drift: DriftClient;
  runner: CommandRunner;
  decisions: DecisionsOf;
  lastPassed: LastPassedRevision;
  signingKey: string;
  allowedHookUrls: readonly string[];
  commandPath: string;
  allowedCommands: readonly string[];
  /** How often wait-applied and health-gate look again. */
  watchPollMs: number;
}): StepHandlers {
  const { registry, drift } = deps;
  return {
    validate: createValidateStep({ registry }),
    approve: createApproveStep({ decisions: deps.decisions, preview: createPreview(registry) }),
    promote: createPromoteStep({ registry }),
    "wait-applied": createWaitAppliedStep({ drift, pollMs: deps.watchPollMs }),
    "health-gate": createHealthGateStep({ drift, pollMs: deps.watchPollMs }),
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
