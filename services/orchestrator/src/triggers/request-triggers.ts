import { CONFIG_CHANGE_REQUESTED, GIT_PUSHED } from "@nexus/contracts";
import { AppError, type Bus, type Consumption, type Logger, type Pool, processOnce } from "@nexus/kit";
import type { RegistryClient } from "../clients/registry-client.js";
import type { PipelineStore } from "../pipelines/pipeline-store.js";
import type { PipelineDto } from "../pipelines/pipeline-types.js";
import type { RunService } from "../runs/run-service.js";
import type { Trigger } from "../runs/run-types.js";
import {
  branchOf,
  needsSourceName,
  startsOnChangeRequest,
  startsOnGitPush,
  watchesGitPushes,
} from "./trigger-fns.js";

export const CHANGE_REQUEST_DURABLE = "orchestrator-change-requests";
export const GIT_PUSH_DURABLE = "orchestrator-git-pushes";

interface Deps {
  bus: Pick<Bus, "consume">;
  pool: Pool;
  pipelines: PipelineStore;
  runs: Pick<RunService, "startFromEvent">;
  registry: Pick<RegistryClient, "layer" | "gitSourceName">;
  logger: Logger;
  wake(): void;
}

/**
 * Start one run per matching pipeline, promoting each source overlay's revision as the registry
 * has it now, and mark the event handled in the same transaction: a redelivery, or the same event
 * at another orchestrator instance, starts nothing twice. The revisions are read before the
 * transaction; a registry that is away throws, and the event comes back later.
 */
async function startRuns(
  deps: Deps,
  durable: string,
  eventId: string,
  matching: PipelineDto[],
  start: { trigger: Trigger; actor: string; detail: string; what: string },
): Promise<void> {
  const pinned: { pipeline: PipelineDto; revision: number }[] = [];
  for (const p of matching) {
    const revision = (await deps.registry.layer(p.namespace, p.source)).revision;
    if (revision === 0) {
      deps.logger.warn(
        { pipeline: p.name, namespace: p.namespace, source: p.source },
        `${start.what} starts no run of ${p.name}: the ${p.source} overlay of ${p.namespace} was never written`,
      );
      continue;
    }
    pinned.push({ pipeline: p, revision });
  }
  if (pinned.length === 0) return;
  const started = await processOnce(deps.pool, durable, eventId, async (tx) => {
    const ids: string[] = [];
    for (const { pipeline, revision } of pinned)
      ids.push(
        await deps.runs.startFromEvent(tx, pipeline, revision, start.trigger, start.actor, start.detail),
      );
    return ids;
  });
  if (started.applied) {
    deps.logger.info(
      { runs: started.result, pipelines: pinned.map((p) => p.pipeline.name) },
      `${start.what} started ${started.result.length} run(s)`,
    );
    deps.wake();
  }
}

/**
 * A change request opened in the registry for a pipeline's target starts a run of it; the run's
 * approve steps are where the change is approved. The run's author is the change's author, so
 * they cannot approve it themselves.
 */
export function consumeChangeRequests(deps: Deps): Promise<Consumption> {
  // Like config.changed: a new durable starts at new events, an existing one resumes.
  return deps.bus.consume(
    CONFIG_CHANGE_REQUESTED,
    { durable: CHANGE_REQUEST_DURABLE, deliverPolicy: "new" },
    async (event) => {
      const d = event.data;
      const matching = (await deps.pipelines.list(deps.pool)).filter((p) => startsOnChangeRequest(p, d));
      if (matching.length === 0) return;
      await startRuns(deps, CHANGE_REQUEST_DURABLE, event.id, matching, {
        trigger: "config.change-requested",
        actor: d.author,
        detail: `change request ${d.changeRequestId}`,
        what: `change request ${d.changeRequestId} on ${d.namespace}/${d.layer}`,
      });
    },
  );
}

/**
 * The name of a Git source, for triggers that name it, when the event does not carry it (events
 * published before it did). Listing sources needs an admin token at the registry: a refusal is not going to change on a retry, so it is logged and only triggers naming
 * the source by id can match; a registry that is away throws and the event comes back later.
 */
async function sourceName(deps: Deps, sourceId: string): Promise<string | null> {
  try {
    const name = await deps.registry.gitSourceName(sourceId);
    if (!name)
      deps.logger.warn(
        { sourceId },
        `the registry knows no Git source ${sourceId}; only triggers naming it by id match`,
      );
    return name;
  } catch (err) {
    if (err instanceof AppError && err.statusCode < 500) {
      deps.logger.warn(
        { sourceId, err: err.message },
        `could not look up the name of Git source ${sourceId} (the orchestrator's registry token needs the admin role to list Git sources); only triggers naming it by id match`,
      );
      return null;
    }
    throw err;
  }
}

/** A push to a branch of a Git source starts the pipelines whose git-push trigger takes it. */
export function consumeGitPushes(deps: Deps): Promise<Consumption> {
  return deps.bus.consume(GIT_PUSHED, { durable: GIT_PUSH_DURABLE, deliverPolicy: "new" }, async (event) => {
    const d = event.data;
    const branch = branchOf(d.ref);
    if (!branch) return;
    const watching = (await deps.pipelines.list(deps.pool)).filter(watchesGitPushes);
    if (watching.length === 0) return;
    const name =
      d.sourceName ?? (needsSourceName(watching, d.sourceId) ? await sourceName(deps, d.sourceId) : null);
    const source = name ?? d.sourceId;
    const names = name ? [d.sourceId, name] : [d.sourceId];
    const matching = watching.filter((p) => startsOnGitPush(p, names, branch));
    if (matching.length === 0) return;
    const commit = d.after.slice(0, 12);
    await startRuns(deps, GIT_PUSH_DURABLE, event.id, matching, {
      trigger: "git.pushed",
      actor: `git:${d.repository}`,
      detail: `push to ${source}@${branch} (${commit})`,
      what: `the push of ${commit} to ${source}@${branch}`,
    });
  });
}
