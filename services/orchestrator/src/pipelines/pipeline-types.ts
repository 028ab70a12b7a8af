import { AlertSeverity, EnvironmentName, NamespaceName, ResourceName } from "@nexus/contracts";
import { Cron } from "croner";
import { z } from "zod";

/** A croner pattern (seconds optional) that croner accepts, in a timezone it knows. */
const CronPattern = z
  .string()
  .min(9)
  .max(120)
  .refine((pattern) => {
    try {
      new Cron(pattern, { paused: true });
      return true;
    } catch {
      return false;
    }
  }, "is not a cron pattern (e.g. `0 30 2 * * 1-5`: seconds, minutes, hours, day, month, weekday)");

/** When a schedule fires: a cron pattern in a time zone, and how late a missed time may still fire. */
export const ScheduleFields = {
  cron: CronPattern,
  timezone: z
    .string()
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, "is not a known time zone")
    .default("UTC"),
  misfireGraceSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(300)
    .describe("A time missed while no instance ran still fires if it is at most this old"),
};

/** A branch name, or a glob over branch names (picomatch syntax: `*`, `**`, `?`, `{a,b}`). */
const BranchGlob = z
  .string()
  .min(1)
  .max(250)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/*?{},!-]+$/, "must be a branch name or a glob such as release/*");

/** A JSON pointer into a configuration document (`/database/host`). */
const JsonPointer = z.string().regex(/^(\/[^/]*)+$/, "must be a JSON pointer such as /database/host");

const StepName = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "lower-case letters, digits and dashes")
  .optional()
  .describe("Unique within the pipeline; default: the type, numbered when it repeats");

const ValidateStep = z.strictObject({
  type: z.literal("validate"),
  name: StepName,
  policies: z.boolean().default(true).describe("Also check the target environment's compliance policies"),
});
const ApproveStep = z.strictObject({
  type: z.literal("approve"),
  name: StepName,
  approvals: z.number().int().min(1).max(10).default(1),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400)
    .default(7 * 86_400),
});
/** One wave of a rollout: a share of the instances (cumulative), or the instances carrying these labels. */
export const WaveSelector = z.union([
  z
    .strictObject({ percent: z.number().min(1).max(100) })
    .describe("This share of the instances (cumulative: 10, then 50 means 40 more), picked by instance id"),
  z
    .strictObject({
      labels: z
        .record(z.string().min(1).max(63), z.string().max(200))
        .refine((l) => Object.keys(l).length > 0, {
          message: "name at least one label",
        }),
    })
    .describe("The instances whose labels include all of these (the SDK's `labels` option)"),
]);
export type WaveSelector = z.infer<typeof WaveSelector>;

const PromoteStep = z.strictObject({
  type: z.literal("promote"),
  name: StepName,
  strategy: z
    .enum(["all-at-once", "waves"])
    .default("all-at-once")
    .describe("`waves`: instances outside the released waves keep the previous revision"),
  waves: z
    .array(WaveSelector)
    .max(20)
    .default([])
    .describe("With strategy `waves`: released in order; after the last, every instance"),
  pauseSeconds: z.number().int().min(0).max(86_400).default(60).describe("Pause after a wave applied"),
  waveTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(86_400)
    .default(600)
    .describe("A wave whose instances have not all applied by then fails the step (and rolls back)"),
});
const WaitAppliedStep = z.strictObject({
  type: z.literal("wait-applied"),
  name: StepName,
  percent: z.number().min(1).max(100).default(100),
  timeoutSeconds: z.number().int().min(1).max(86_400).default(600),
  /** Below this many live instances the step waits for more (0: an empty environment passes). */
  minInstances: z.number().int().min(0).default(1),
});
const HealthGateStep = z.strictObject({
  type: z.literal("health-gate"),
  name: StepName,
  bakeSeconds: z.number().int().min(0).max(86_400).default(60),
  maxRejected: z.number().int().min(0).default(0).describe("Instances allowed to reject the revision"),
  failOnFindings: z
    .array(z.enum(["stale", "rejected", "divergent", "policy"]))
    .default(["rejected", "divergent"])
    .describe("Drift findings of these kinds opened during the bake fail the gate (without a monitor)"),
  failOnAlerts: z
    .array(AlertSeverity)
    .default(["warning", "error", "critical"])
    .describe(
      "With a monitor (MONITOR_URL): its alerts of these severities about the target namespace and environment, firing since the promotion, fail the gate",
    ),
});
const HttpHookStep = z.strictObject({
  type: z.literal("http-hook"),
  name: StepName,
  url: z.url({ protocol: /^https?$/ }),
  timeoutSeconds: z.number().int().min(1).max(300).default(10),
});
const RunStep = z.strictObject({
  type: z.literal("run"),
  name: StepName,
  command: z.array(z.string().min(1)).min(1).describe("Program and arguments (no shell)"),
  timeoutSeconds: z.number().int().min(1).max(3_600).default(60),
  configEnv: z
    .boolean()
    .default(true)
    .describe(
      "Pass the target's resolved config as NEXUS_CONFIG (JSON) and top-level scalars as NEXUS_<KEY>",
    ),
});
const RollbackStep = z.strictObject({
  type: z.literal("rollback"),
  name: StepName,
});

export const StepDefinition = z.discriminatedUnion("type", [
  ValidateStep,
  ApproveStep,
  PromoteStep,
  WaitAppliedStep,
  HealthGateStep,
  HttpHookStep,
  RunStep,
  RollbackStep,
]);
export type StepDefinition = z.infer<typeof StepDefinition>;
export type StepType = StepDefinition["type"];
export type StepOf<T extends StepType> = Extract<StepDefinition, { type: T }>;

export const TriggerDefinition = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("manual") }),
  z
    .strictObject({ type: z.literal("config.changed") })
    .describe("A write to the source environment's overlay starts a run promoting that revision"),
  z
    .strictObject({
      type: z.literal("schedule"),
      ...ScheduleFields,
    })
    .describe("Start a run at these times, promoting the source overlay's revision at that moment"),
  z
    .strictObject({ type: z.literal("change-request") })
    .describe(
      "A change request opened in the registry for the target environment (of this namespace) starts a run " +
        "promoting the source overlay's revision at that moment; the run's approve steps are its approval path",
    ),
  z
    .strictObject({
      type: z.literal("git-push"),
      source: z
        .union([ResourceName, z.uuid()])
        .describe(
          "The Git source's name in the registry (looked up with the orchestrator's registry token, " +
            "which needs the admin role for it) or its id",
        ),
      branch: BranchGlob.default("*").describe(
        "Branch name or glob (`main`, `release/*`, `**`); `*` does not cross `/`",
      ),
    })
    .describe(
      "A push to a branch of a Git source starts a run promoting the source overlay's revision at that moment",
    ),
]);
export type TriggerDefinition = z.infer<typeof TriggerDefinition>;

export const PipelineDefinition = z
  .strictObject({
    name: ResourceName,
    description: z.string().max(1000).default(""),
    namespace: NamespaceName,
    source: EnvironmentName.describe("The environment whose overlay is promoted"),
    target: EnvironmentName.describe("The environment the overlay is copied into"),
    pinnedPaths: z
      .array(JsonPointer)
      .max(200)
      .default([])
      .describe("Per-environment keys (hosts, credentials, sizes): never copied, the target keeps its own"),
    rollbackOnFailure: z.boolean().default(true),
    triggers: z.array(TriggerDefinition).default([{ type: "manual" }]),
    steps: z.array(StepDefinition).min(1).max(50),
  })
  .superRefine((p, ctx) => {
    if (p.source === p.target)
      ctx.addIssue({ code: "custom", path: ["target"], message: "must differ from source" });
    const seen = new Set<string>();
    p.steps.forEach((s, i) => {
      if (!s.name) return;
      if (seen.has(s.name))
        ctx.addIssue({ code: "custom", path: ["steps", i, "name"], message: `'${s.name}' is used twice` });
      seen.add(s.name);
    });
    const promote = p.steps.findIndex((s) => s.type === "promote");
    const approve = p.steps.findIndex((s) => s.type === "approve");
    p.triggers.forEach((t, i) => {
      // The run stands in for the registry's approval of the change, so it must ask for one
      // before it writes anything.
      if (t.type === "change-request" && (approve < 0 || (promote >= 0 && approve > promote)))
        ctx.addIssue({
          code: "custom",
          path: ["triggers", i, "type"],
          message: "a change-request run is the change's approval path: add an approve step before promote",
        });
    });
    p.steps.forEach((s, i) => {
      if (s.type !== "promote") return;
      if (s.strategy === "waves" && s.waves.length === 0)
        ctx.addIssue({
          code: "custom",
          path: ["steps", i, "waves"],
          message: "strategy waves needs at least one wave",
        });
      if (s.strategy !== "waves" && s.waves.length > 0)
        ctx.addIssue({
          code: "custom",
          path: ["steps", i, "strategy"],
          message: "waves are given: set strategy to waves",
        });
      let last = 0;
      s.waves.forEach((w, k) => {
        if (!("percent" in w)) return;
        if (w.percent <= last)
          ctx.addIssue({
            code: "custom",
            path: ["steps", i, "waves", k, "percent"],
            message: `percentages are cumulative: must be above the previous wave's ${last}`,
          });
        last = w.percent;
      });
    });
    p.steps.forEach((s, i) => {
      if ((s.type === "wait-applied" || s.type === "health-gate") && (promote < 0 || i < promote))
        ctx.addIssue({
          code: "custom",
          path: ["steps", i, "type"],
          message: `${s.type} watches a promoted revision: it must come after a promote step`,
        });
    });
  });
export type PipelineDefinition = z.infer<typeof PipelineDefinition>;

export const PipelineDto = z.object({
  name: z.string(),
  namespace: z.string(),
  source: z.string(),
  target: z.string(),
  version: z.number().int(),
  definition: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type PipelineDto = z.infer<typeof PipelineDto>;

export const PipelineVersionDto = z.object({
  version: z.number().int(),
  definition: z.record(z.string(), z.unknown()),
  createdBy: z.string(),
  createdAt: z.string(),
});
export type PipelineVersionDto = z.infer<typeof PipelineVersionDto>;

export const PipelineParams = z.object({ name: ResourceName });
