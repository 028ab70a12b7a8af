/** The newest finished run of one pipeline, as the orchestrator announced it. */
export interface PipelineStatus {
  pipeline: string;
  namespace: string;
  /** The target environment. */
  environment: string;
  runId: string;
  outcome: "failed" | "succeeded";
  /** The event's time (the orchestrator's commit of the outcome). */
  finishedAt: Date;
  failedStep: string | null;
  failureReason: string | null;
  rolledBack: boolean;
}
