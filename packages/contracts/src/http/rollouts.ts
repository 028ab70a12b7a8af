import { z } from "zod";

/**
 * Wave rollouts as the orchestrator's `GET /v1/rollouts` and `GET /v1/rollouts/{id}` show them
 * (`nexus rollout`, the dashboard's rollouts view). A rollout's id is its run's id.
 */

export const RolloutStatusDto = z.enum(["active", "completed", "aborted"]);

/** One rollout without its members: the listing's row. */
export const RolloutSummaryDto = z.object({
  id: z.string().describe("The run that rolls out (one rollout per run)"),
  pipeline: z.string(),
  namespace: z.string(),
  environment: z.string(),
  status: RolloutStatusDto,
  holdRevision: z.number().int().describe("What instances outside the released waves keep"),
  targetRevision: z.number().int().nullable().describe("The promoted revision; null until written"),
  waveCount: z.number().int(),
  releasedWaves: z.number().int().describe("Waves released so far (0: the promotion is not written yet)"),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type RolloutSummaryDto = z.infer<typeof RolloutSummaryDto>;

export const RolloutListDto = z.object({ items: z.array(RolloutSummaryDto) });
export type RolloutListDto = z.infer<typeof RolloutListDto>;

/** One wave: its selector, and whether it is released or the one the rollout waits on. */
export const RolloutWaveDto = z.object({
  wave: z.number().int().describe("1-based"),
  selector: z.union([
    z.object({ percent: z.number() }),
    z.object({ labels: z.record(z.string(), z.string()) }),
  ]),
  released: z.boolean(),
  current: z.boolean().describe("The newest released wave of an active rollout: the one being waited on"),
});
export type RolloutWaveDto = z.infer<typeof RolloutWaveDto>;

export const RolloutMemberStateDto = z
  .enum(["applied", "applying", "rejected", "held", "unplaced"])
  .describe(
    "`applied`: runs the target; `applying`: may run it, not yet; `rejected`: refused it; `held`: its wave is not released; `unplaced`: label waves, it has not asked yet",
  );

/** One instance of the rollout's place, from the drift-detector's inventory. */
export const RolloutMemberDto = z.object({
  instanceId: z.string(),
  wave: z.number().int().nullable().describe("Its wave (1-based); null: none takes it, or not placed yet"),
  labels: z.record(z.string(), z.string()).nullable().describe("From its question (label waves only)"),
  status: z.string().describe("The inventory's status: live, cache, stopping, gone, unknown"),
  state: RolloutMemberStateDto,
  targetRevision: z.number().int().nullable().describe("The revision it may run now"),
  ackedRevision: z.number().int().nullable().describe("The revision it last acknowledged running"),
  rejectedRevision: z.number().int().nullable(),
  rejectedReason: z.string().nullable(),
});
export type RolloutMemberDto = z.infer<typeof RolloutMemberDto>;

export const RolloutDetailDto = RolloutSummaryDto.extend({
  waves: z.array(RolloutWaveDto),
  currentWave: z.number().int().nullable().describe("The wave being waited on; null when none is"),
  members: z
    .array(RolloutMemberDto)
    .describe("Live and cached instances first; empty when the inventory is unknown"),
  inventoryError: z
    .string()
    .nullable()
    .describe("Why members are unknown (the drift-detector did not answer); null when they are known"),
}).meta({ id: "RolloutDetail" });
export type RolloutDetailDto = z.infer<typeof RolloutDetailDto>;
