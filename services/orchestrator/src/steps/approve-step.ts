import type { StepHandler, StepOutcome } from "./step-types.js";

export interface Decision {
  actor: string;
  decision: "approve" | "reject";
  comment: string;
}

/** Decisions recorded for one approve step of one run. */
export type DecisionsOf = (runId: string, stepIndex: number) => Promise<Decision[]>;

/**
 * Waits for N approvals (recorded through the API, which checks the approver role and refuses the
 * run's author). One rejection stops the run. An approval wakes the run at once; the recheck only
 * catches the timeout.
 */
export function createApproveStep(deps: { decisions: DecisionsOf }): StepHandler<"approve"> {
  return async ({ run, step, index, startedAt, now }): Promise<StepOutcome> => {
    const decisions = await deps.decisions(run.id, index);
    const rejection = decisions.find((d) => d.decision === "reject");
    if (rejection)
      return {
        kind: "failed",
        reason: `rejected by ${rejection.actor}${rejection.comment ? `: ${rejection.comment}` : ""}`,
      };
    const approvers = decisions.filter((d) => d.decision === "approve").map((d) => d.actor);
    if (approvers.length >= step.approvals)
      return { kind: "succeeded", summary: `approved by ${approvers.join(", ")}`, approvers };
    const leftMs = startedAt.getTime() + step.timeoutSeconds * 1_000 - now.getTime();
    if (leftMs <= 0)
      return {
        kind: "failed",
        reason: `not approved within ${step.timeoutSeconds} s (${approvers.length} of ${step.approvals} approvals)`,
      };
    return {
      kind: "wait",
      state: {},
      recheckMs: Math.min(leftMs, 60_000),
      progress: `waiting for approval: ${approvers.length} of ${step.approvals}`,
      awaitingApproval: { required: step.approvals, given: approvers.length },
    };
  };
}
