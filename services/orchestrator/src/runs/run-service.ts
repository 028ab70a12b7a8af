import { randomUUID } from "node:crypto";
import { PIPELINE_STARTED } from "@nexus/contracts";
import {
  type AccessScope,
  BadRequestError,
  type Bus,
  ConflictError,
  enqueueEvent,
  ForbiddenError,
  NotFoundError,
  type Pool,
  type Queryable,
  withTransaction,
} from "@nexus/kit";
import type { RegistryClient } from "../clients/registry-client.js";
import { newestVisible, pipelineScope } from "../http/access.js";
import type { PipelineStore } from "../pipelines/pipeline-store.js";
import type { PipelineDefinition, PipelineDto } from "../pipelines/pipeline-types.js";
import type { Decision } from "../steps/approve-step.js";
import { runFacts } from "./run-event-fns.js";
import type { RunStore } from "./run-store.js";
import type { RunDetailDto, RunQuery, RunRow, Trigger } from "./run-types.js";
import { toRunDto, toStepDto } from "./run-types.js";

type Authorize = (scope: AccessScope) => void;

export function createRunService(deps: {
  pool: Pool;
  bus: Pick<Bus, "envelope" | "subjectFor">;
  runs: RunStore;
  pipelines: PipelineStore;
  registry: Pick<RegistryClient, "layer" | "layerRevision">;
  outboxChannel: string;
  /** Tell the local executor a run is due now. */
  wake(): void;
}) {
  const { pool, runs, pipelines, registry } = deps;

  async function detail(run: RunRow): Promise<RunDetailDto> {
    const [steps, decisions] = await Promise.all([runs.steps(pool, run.id), runs.decisions(pool, run.id)]);
    return { ...toRunDto(run), steps: steps.map(toStepDto), decisions };
  }

  const mustGet = async (id: string): Promise<RunRow> => {
    const run = await runs.get(pool, id);
    if (!run) throw new NotFoundError("run_not_found", `no run ${id}`, { field: "id" });
    return run;
  };

  /** Insert a run (pending steps) and its `pipeline.started` in the caller's transaction. */
  async function insertRun(
    tx: Queryable,
    p: PipelineDto,
    sourceRevision: number,
    trigger: Trigger,
    actor: string,
    triggerDetail: string | null = null,
  ): Promise<string> {
    const definition = p.definition as unknown as PipelineDefinition;
    const run = {
      id: randomUUID(),
      pipeline: p.name,
      pipelineVersion: p.version,
      definition,
      namespace: p.namespace,
      source: p.source,
      target: p.target,
      sourceRevision,
      trigger,
      triggerDetail,
      startedBy: actor,
    };
    await runs.insert(tx, run);
    await enqueueEvent(
      tx,
      deps.bus,
      PIPELINE_STARTED,
      { ...runFacts(run), trigger, startedBy: actor, sourceRevision },
      { channel: deps.outboxChannel },
    );
    return run.id;
  }

  async function decide(id: string, decision: Decision, authorize: Authorize): Promise<RunDetailDto> {
    await withTransaction(pool, async (tx) => {
      const run = await runs.lockForDecision(tx, id);
      if (!run) throw new NotFoundError("run_not_found", `no run ${id}`, { field: "id" });
      authorize(pipelineScope(run));
      const step = run.definition.steps[run.currentStep];
      if (run.status !== "awaiting-approval" || step?.type !== "approve")
        throw new ConflictError(
          "not_awaiting_approval",
          `run ${id} is ${run.status}, not waiting for an approval`,
        );
      if (decision.actor === run.startedBy)
        throw new ForbiddenError("own_run", "the author of a run may not approve or reject it");
      if (!(await runs.insertDecision(tx, id, run.currentStep, decision)))
        throw new ConflictError("already_decided", `${decision.actor} already decided on this step`);
      // A decisive answer (a rejection, or the last approval needed) puts the run back to running
      // now, so nobody reads it as still waiting; the executor finishes the step at once.
      const approvals = (await runs.decisions(tx, id, run.currentStep)).filter(
        (d) => d.decision === "approve",
      );
      if (decision.decision === "reject" || approvals.length >= step.approvals)
        await runs.updateRun(tx, id, { status: "running" });
      await runs.wake(tx, id);
    });
    deps.wake();
    return detail(await mustGet(id));
  }

  return {
    async get(id: string, authorize: Authorize): Promise<RunDetailDto> {
      const run = await mustGet(id);
      authorize(pipelineScope(run));
      return detail(run);
    },

    /** The newest `q.limit` runs the caller may see (`visible` judges the caller's grants). */
    list: async (q: RunQuery, visible: (run: RunRow) => boolean) =>
      (
        await newestVisible(
          (before, size) => runs.list(pool, { ...q, limit: size }, before),
          (r) => ({ createdAt: r.createdAt, id: r.id }),
          visible,
          q.limit,
        )
      ).map(toRunDto),

    /** A manual start: the source revision is pinned now (the one given, or the overlay's current one). */
    async start(
      name: string,
      requested: number | undefined,
      actor: string,
      authorize: Authorize,
    ): Promise<RunDetailDto> {
      const p = await pipelines.get(pool, name);
      if (!p) throw new NotFoundError("pipeline_not_found", `no pipeline named '${name}'`, { field: "name" });
      authorize(pipelineScope(p));
      let sourceRevision = requested;
      if (sourceRevision === undefined) {
        sourceRevision = (await registry.layer(p.namespace, p.source)).revision;
        if (sourceRevision === 0)
          throw new ConflictError(
            "nothing_to_promote",
            `the ${p.source} overlay of ${p.namespace} was never written`,
          );
      } else if (!(await registry.layerRevision(p.namespace, p.source, sourceRevision))) {
        throw new BadRequestError(
          "unknown_revision",
          `${sourceRevision} is not a revision of the ${p.source} overlay of ${p.namespace}`,
          { field: "sourceRevision" },
        );
      }
      const revision = sourceRevision;
      const id = await withTransaction(pool, (tx) => insertRun(tx, p, revision, "manual", actor));
      deps.wake();
      return detail(await mustGet(id));
    },

    /** Runs started by an event, in the transaction that records the event as handled. */
    async startFromEvent(
      tx: Queryable,
      p: PipelineDto,
      sourceRevision: number,
      trigger: Trigger,
      actor: string,
      detail: string | null = null,
    ) {
      return insertRun(tx, p, sourceRevision, trigger, actor, detail);
    },

    /** Ask an active run to stop; it stops at its next look, rolling back what it promoted. */
    async cancel(id: string, actor: string, authorize: Authorize): Promise<RunDetailDto> {
      await withTransaction(pool, async (tx) => {
        const run = await runs.lockForDecision(tx, id);
        if (!run) throw new NotFoundError("run_not_found", `no run ${id}`, { field: "id" });
        authorize(pipelineScope(run));
        if (run.status === "succeeded" || run.status === "failed" || run.status === "rolled-back")
          throw new ConflictError("run_finished", `run ${id} already ${run.status}`);
        if (run.status === "rolling-back")
          throw new ConflictError(
            "run_rolling_back",
            `run ${id} is rolling back; it stops when that is done`,
          );
        await runs.requestCancel(tx, id, actor);
      });
      deps.wake();
      return detail(await mustGet(id));
    },

    approve: (id: string, actor: string, comment: string, authorize: Authorize) =>
      decide(id, { actor, decision: "approve", comment }, authorize),
    reject: (id: string, actor: string, comment: string, authorize: Authorize) =>
      decide(id, { actor, decision: "reject", comment }, authorize),
  };
}
export type RunService = ReturnType<typeof createRunService>;
