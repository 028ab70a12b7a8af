import type { PoolClient } from "@nexus/kit";
import type { PipelineDefinition, StepDefinition, StepOf, StepType } from "../pipelines/pipeline-types.js";

export type JsonObject = Record<string, unknown>;

/** A layer revision as a run stores it: the number, and (older runs only) the content. */
export interface LayerRef {
  revision: number;
  content?: JsonObject;
}

/** What a run remembers between steps (stored in `runs.context`). */
export interface RunContext {
  /**
   * The target overlay as the promote step found it: what an automatic rollback restores. Only its
   * revision is kept (the content is read back from the registry when a rollback needs it): the
   * context is read and written at every step, and an overlay can be megabytes. Runs started
   * before this change also carry `content`.
   */
  targetBefore?: LayerRef;
  /** The revision the promote step wrote; null when the target already had that content. */
  promotedRevision?: number | null;
  /** When the promotion wrote (ISO): alerts since then count against the health gate. */
  promotedAt?: string;
  /** The revision instances must reach (the promoted one, or the target's when nothing changed). */
  watchRevision?: number;
  /** The target overlay revision the approved preview was computed against (the approval is bound to it). */
  approvedTargetRevision?: number;
  /** What a rollback step did. */
  rollback?: { fromRevision: number; toRevision: number; revision: number };
}

export interface CheckpointExtra {
  context?: RunContext;
  also?: (tx: PoolClient) => Promise<void>;
}

/** The run as a step sees it. */
export interface RunView {
  id: string;
  pipeline: string;
  pipelineVersion: number;
  definition: PipelineDefinition;
  namespace: string;
  source: string;
  target: string;
  sourceRevision: number;
  startedBy: string;
  context: RunContext;
}

export interface StepInput<S extends StepDefinition = StepDefinition> {
  run: RunView;
  step: S;
  index: number;
  /** What the step kept from its earlier looks (waiting steps) or a checkpoint before a write. */
  state: JsonObject;
  /** When the step first started (a waiting step's timeout and bake time count from here). */
  startedAt: Date;
  now: Date;
  /**
   * Commit `state` now, before an outside write, so a resumed step knows what it already saw;
   * `extra.context` merges into the run's context and `extra.also` runs in the same transaction
   * (a rollout's plan and its event), all while this instance holds the run.
   */
  checkpoint(state: JsonObject, extra?: CheckpointExtra): Promise<void>;
}

export type StepOutcome =
  | {
      kind: "succeeded";
      summary: string;
      output?: string;
      context?: RunContext;
      approvers?: string[];
    }
  | { kind: "failed"; reason: string; output?: string }
  | {
      kind: "wait";
      state: JsonObject;
      recheckMs: number;
      /** Plain words for `summary` while waiting ("2 of 5 instances on revision 14"). */
      progress: string;
      /** Shown with the step while it waits (an approval's preview). */
      output?: string;
      awaitingApproval?: { required: number; given: number };
      /**
       * Look again as soon as this many instances acked `applied` at `revision` or newer (the
       * executor follows the target's acks while it keeps the run), not only after `recheckMs`.
       */
      wakeOnAcks?: { revision: number; missing: number };
    };

export type StepHandler<T extends StepType = StepType> = (
  input: StepInput<StepOf<T>>,
) => Promise<StepOutcome>;
export type StepHandlers = { [T in StepType]: StepHandler<T> };

/**
 * What a step reads of the applied-acks a run watches (runs/applied-acks.ts keeps them): instance
 * id → the revision it last said it applied, for a target; empty when no run watches it.
 */
export type SeenAcks = (namespace: string, environment: string) => ReadonlyMap<string, number>;
