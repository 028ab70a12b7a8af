import { NamespaceName, ResourceName } from "@nexus/contracts";
import { z } from "zod";
import { ScheduleFields } from "../pipelines/pipeline-types.js";

const JobSchedule = z
  .strictObject(ScheduleFields)
  .describe(
    "When the job runs by itself (one instance fires each time; a missed time within the grace fires once)",
  );

export const ComplianceScanJob = z
  .strictObject({
    name: ResourceName,
    kind: z.literal("compliance-scan"),
    schedule: JobSchedule.optional(),
    namespaces: z
      .array(NamespaceName)
      .min(1)
      .max(1_000)
      .optional()
      .describe("The namespaces to scan; absent: every namespace the orchestrator's token may read"),
    policies: z
      .boolean()
      .default(true)
      .describe(
        "Check the drift-detector's compliance policies of each environment too, not only the schema",
      ),
  })
  .describe(
    "Validate every environment's resolved document against its namespace's JSON Schema and its policies; report each finding",
  );

export const BackupDrillJob = z
  .strictObject({
    name: ResourceName,
    kind: z.literal("backup-drill"),
    schedule: JobSchedule.optional(),
    timeoutSeconds: z
      .number()
      .int()
      .min(10)
      .max(86_400)
      .default(1_800)
      .describe("How long the backup service may take to restore and compare"),
  })
  .describe(
    "Ask the backup service to restore its newest completed backup into a scratch schema and compare it (its verify), and wait for the outcome",
  );

export const JobDefinition = z.discriminatedUnion("kind", [ComplianceScanJob, BackupDrillJob]).meta({
  id: "JobDefinition",
});
export type JobDefinition = z.infer<typeof JobDefinition>;
export type JobKind = JobDefinition["kind"];

export const JobParams = z.object({ name: ResourceName });
export const JobRunParams = z.object({ id: z.uuid() });
export const JobRunsQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) });
