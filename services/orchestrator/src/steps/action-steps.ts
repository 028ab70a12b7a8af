import type { RegistryClient } from "../clients/registry-client.js";
import { hookUrlAllowed } from "../pipelines/pipeline-fns.js";
import type { CommandRunner } from "./command-runner.js";
import { commandEnv, hookSignature, tailOf } from "./step-fns.js";
import type { StepHandler, StepOutcome } from "./step-types.js";

/**
 * POST the run's facts to an outside URL, signed (`x-nexus-signature: sha256=HMAC(key,
 * "<timestamp>.<body>")`); a 2xx passes. `x-nexus-delivery` is the same for a retry after a crash,
 * so the receiver can ignore a second delivery.
 */
export function createHttpHookStep(deps: {
  signingKey: string;
  allowedUrls: readonly string[];
}): StepHandler<"http-hook"> {
  return async ({ run, step, index }): Promise<StepOutcome> => {
    // Checked at save time too; the list may have changed since.
    if (!hookUrlAllowed(step.url, deps.allowedUrls))
      return { kind: "failed", reason: `${step.url} is not under HOOK_ALLOWED_URLS` };
    const delivery = `${run.id}:${index}`;
    const body = JSON.stringify({
      delivery,
      runId: run.id,
      pipeline: run.pipeline,
      pipelineVersion: run.pipelineVersion,
      namespace: run.namespace,
      source: run.source,
      target: run.target,
      sourceRevision: run.sourceRevision,
      promotedRevision: run.context.promotedRevision ?? null,
      step: { index, name: step.name },
    });
    const timestamp = String(Math.floor(Date.now() / 1000));
    let res: Response;
    try {
      res = await fetch(step.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-nexus-delivery": delivery,
          "x-nexus-timestamp": timestamp,
          "x-nexus-signature": hookSignature(deps.signingKey, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(step.timeoutSeconds * 1_000),
        redirect: "manual",
      });
    } catch (err) {
      const why =
        err instanceof Error && err.name === "TimeoutError"
          ? `no answer within ${step.timeoutSeconds} s`
          : String(err);
      return { kind: "failed", reason: `${step.url}: ${why}` };
    }
    const text = tailOf(await res.text().catch(() => ""), 4_000);
    if (res.status >= 200 && res.status < 300)
      return { kind: "succeeded", summary: `${step.url} answered ${res.status}`, output: text };
    return { kind: "failed", reason: `${step.url} answered ${res.status}, expected 2xx`, output: text };
  };
}

/** A local command with the target's resolved config in its environment; exit 0 passes. */
export function createRunStep(deps: {
  registry: RegistryClient;
  runner: CommandRunner;
  path: string;
  allowedCommands: readonly string[];
}): StepHandler<"run"> {
  return async ({ run, step }): Promise<StepOutcome> => {
    // Checked at save time too; the list may have changed since.
    if (!deps.allowedCommands.includes(step.command[0]!))
      return { kind: "failed", reason: `${step.command[0]} is not in RUN_ALLOWED_COMMANDS` };
    const config = step.configEnv ? (await deps.registry.resolved(run.namespace, run.target)).content : {};
    const env = commandEnv(
      config,
      { id: run.id, namespace: run.namespace, target: run.target, revision: run.context.watchRevision },
      deps.path,
    );
    const result = await deps.runner.run({
      command: step.command,
      env,
      timeoutMs: step.timeoutSeconds * 1_000,
    });
    const output = tailOf(result.output);
    const name = step.command[0];
    if (result.failedToStart)
      return { kind: "failed", reason: `${name} did not start: ${result.failedToStart}` };
    if (result.timedOut)
      return { kind: "failed", reason: `${name} was stopped after ${step.timeoutSeconds} s`, output };
    if (result.exitCode !== 0)
      return { kind: "failed", reason: `${name} exited with ${result.exitCode}`, output };
    return { kind: "succeeded", summary: `${name} exited with 0`, output };
  };
}
