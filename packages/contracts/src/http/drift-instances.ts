import { z } from "zod";

/**
 * The drift-detector's `GET /v1/namespaces/{ns}/environments/{env}/instances`: who runs which
 * revision of one environment, and how far behind (`nexus instances`). The CLI reads it
 * type-only: it checks answers structurally, without zod.
 */

/** What the environment should run: its newest resolved revision as the detector learnt it. */
export const EnvironmentHeadDto = z
  .object({ revision: z.number(), hash: z.string(), changedAt: z.string() })
  .nullable()
  .describe("What the environment should run (null: nothing learnt yet)");
export type EnvironmentHeadDto = z.infer<typeof EnvironmentHeadDto>;

export const InstanceDto = z.object({
  instanceId: z.string(),
  service: z.string(),
  revision: z.number().nullable(),
  hash: z.string().nullable(),
  status: z.enum(["live", "cache", "stopping", "gone", "unknown"]),
  lastSeenAt: z.string(),
  firstSeenAt: z.string(),
  /** Behind the head by revisions, and for how long (null: no head, or nothing applied yet). */
  lag: z.object({ revisions: z.number().nullable(), seconds: z.number().nullable() }),
  /** The newest revision it refused, while newer than what it runs. */
  rejected: z.object({ revision: z.number(), reason: z.string().nullable() }).nullable(),
});
export type InstanceDto = z.infer<typeof InstanceDto>;

export const InstancesDto = z.object({
  namespace: z.string(),
  environment: z.string(),
  head: EnvironmentHeadDto,
  items: z.array(InstanceDto),
});
export type InstancesDto = z.infer<typeof InstancesDto>;
