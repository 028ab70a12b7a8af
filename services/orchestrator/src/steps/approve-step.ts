import type { JsonObject, RunView, StepHandler, StepOutcome } from "./step-types.js";

/** What the promotion would write, for approvers to read: the target revision it starts from and the changes. */
export interface Preview {
  targetRevision: number;
  lines: string[];
}
export type PreviewOf = (run: RunView) => Promise<Preview>;

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
export function createApproveStep(deps: {
  decisions: DecisionsOf;
  preview: PreviewOf;
}): StepHandler<"approve"> {
  return async ({ run, step, index, state, startedAt, now }): Promise<StepOutcome> => {
    // Approvers see what the promotion will write; the approval holds for that target revision only.
    const promotes = run.definition.steps.slice(index + 1).some((s) => s.type === "promote");
    let preview = state.preview as Preview | undefined;
    if (promotes && !preview && run.context.promotedRevision === undefined) preview = await deps.preview(run);
    const previewText = preview
      ? [`${run.target} revision ${preview.targetRevision} would change:`, ...preview.lines].join("\n")
      : undefined;
    const decisions = await deps.decisions(run.id, index);
    const rejection = decisions.find((d) => d.decision === "reject");
    if (rejection)
      return {
        kind: "failed",
        reason: `rejected by ${rejection.actor}${rejection.comment ? `: ${rejection.comment}` : ""}`,
      };
    const approvers = decisions.filter((d) => d.decision === "approve").map((d) => d.actor);
    if (approvers.length >= step.approvals)
      return {
        kind: "succeeded",
        summary: `approved by ${approvers.join(", ")}`,
        approvers,
        ...(previewText ? { output: previewText } : {}),
        ...(preview ? { context: { approvedTargetRevision: preview.targetRevision } } : {}),
      };
    const leftMs = startedAt.getTime() + step.timeoutSeconds * 1_000 - now.getTime();
    if (leftMs <= 0)
      return {
        kind: "failed",
        reason: `not approved within ${step.timeoutSeconds} s (${approvers.length} of ${step.approvals} approvals)`,
      };
    const kept: JsonObject = preview ? { preview: { ...preview } } : {};
    return {
      kind: "wait",
      state: kept,
      ...(previewText ? { output: previewText } : {}),
      recheckMs: Math.min(leftMs, 60_000),
      progress: `waiting for approval: ${approvers.length} of ${step.approvals}`,
      awaitingApproval: { required: step.approvals, given: approvers.length },
    };
  };
}
