import { AlertLabels, AlertSeverity, BackupKind, DriftKind, ResourceName } from "@nexus/contracts";
import { z } from "zod";

/** `30s`, `5m`, `1h`, `2d`, `500ms`: how long a condition must hold, or how old a finding is. */
export const Duration = z
  .string()
  .regex(/^\d{1,6}(ms|s|m|h|d)$/, "must be a number and a unit: ms, s, m, h or d (e.g. 30s, 5m)");

/** Service name globs (`*` matches anything): which services a rule watches. */
const ServiceGlobs = z
  .array(z.string().regex(/^[a-z0-9*-]{1,63}$/, "must be a service name, `*` as a wildcard"))
  .min(1)
  .max(50)
  .default(["*"]);

/** The monitor keeps an hour of HTTP traffic per instance: SLO windows fit in it. */
const SloWindow = Duration.refine((t) => {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(t);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m?.[2] as "s"] ?? 0;
  const ms = Number(m?.[1] ?? 0) * unit;
  return ms >= 1_000 && ms <= 3_600_000;
}, "must be between 1s and 1h (the traffic the monitor keeps)");

/** `host:port` of a TLS endpoint (a name or an IPv4 address; IPv6 in brackets). */
const TlsEndpoint = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]{1,253}):\d{1,5}$/, "must be host:port, e.g. nats.internal:4222");

const RuleBase = z.object({
  name: ResourceName.describe("Unique in the rule set; part of every alert's fingerprint"),
  severity: AlertSeverity.default("error"),
  for: Duration.default("0s").describe("How long the condition must hold before the alert fires"),
  summary: z.string().min(1).max(300).optional().describe("Replaces the generated one-line summary"),
  labels: AlertLabels.default({}).describe("Added to every alert of the rule (routing in the notifier)"),
});

export const AlertRule = z.discriminatedUnion("kind", [
  RuleBase.extend({
    kind: z.literal("instance_down").describe("An instance missed its heartbeats (it did not say goodbye)"),
    services: ServiceGlobs,
  }),
  RuleBase.extend({
    kind: z.literal("service_down").describe("No instance of the service is up (or none was ever heard)"),
    services: ServiceGlobs,
  }),
  RuleBase.extend({
    kind: z.literal("dependency_down").describe("An instance reports one of its dependencies down"),
    services: ServiceGlobs,
    dependency: z
      .string()
      .regex(/^[a-z0-9*_-]{1,60}$/)
      .default("*")
      .describe("Dependency name glob: postgres, nats, redis, ..."),
  }),
  RuleBase.extend({
    kind: z.literal("outbox_backlog").describe("Unpublished outbox rows above the threshold"),
    services: ServiceGlobs,
    threshold: z.number().int().min(0),
  }),
  RuleBase.extend({
    kind: z
      .literal("consumer_lag")
      .describe("Messages not yet delivered or acknowledged above the threshold"),
    services: ServiceGlobs,
    threshold: z.number().int().min(0),
  }),
  RuleBase.extend({
    kind: z.literal("dead_letters").describe("More dead letters than the threshold"),
    services: ServiceGlobs,
    threshold: z.number().int().min(0).default(0),
  }),
  RuleBase.extend({
    kind: z.literal("drift_finding_open").describe("A drift finding open for longer than `olderThan`"),
    olderThan: Duration,
    findingKinds: z.array(DriftKind).min(1).optional().describe("Only these kinds; absent: all"),
  }),
  RuleBase.extend({
    kind: z
      .literal("backup_failed")
      .describe("The newest backup run of a kind failed (taking it or its verification restore)"),
    backupKinds: z.array(BackupKind).min(1).default(["full", "incremental"]),
  }),
  RuleBase.extend({
    kind: z
      .literal("backup_overdue")
      .describe(
        "No backup of this kind verified within `within` (counted from when the monitor began watching if none ever was)",
      ),
    backupKind: BackupKind,
    within: Duration,
  }),
  RuleBase.extend({
    kind: z
      .literal("pipeline_failed")
      .describe("A pipeline's newest finished run failed (a later succeeded run resolves it)"),
    pipelines: z
      .array(z.string().regex(/^[a-z0-9*-]{1,63}$/, "must be a pipeline name, `*` as a wildcard"))
      .min(1)
      .max(50)
      .default(["*"])
      .describe("Pipeline name globs"),
  }),
  RuleBase.extend({
    kind: z
      .literal("slo_error_rate")
      .describe("Share of a service's HTTP requests answered 5xx over `window` above `threshold`"),
    services: ServiceGlobs,
    threshold: z.number().gt(0).max(1).describe("A ratio: 0.05 is 5 %"),
    window: SloWindow.default("5m"),
    minRequests: z
      .number()
      .int()
      .min(1)
      .default(20)
      .describe("Fewer requests in the window: no judgement (one failed request of two is not an outage)"),
  }),
  RuleBase.extend({
    kind: z
      .literal("slo_latency")
      .describe("A service's p99 HTTP latency over `window` above `threshold` milliseconds"),
    services: ServiceGlobs,
    threshold: z.number().gt(0).describe("Milliseconds"),
    window: SloWindow.default("5m"),
    minRequests: z.number().int().min(1).default(20),
  }),
  RuleBase.extend({
    kind: z
      .literal("certificate_expiring")
      .describe("The TLS certificate an endpoint presents expires within `within` (or has expired)"),
    endpoints: z.array(TlsEndpoint).min(1).max(50),
    within: Duration.default("14d"),
  }),
  RuleBase.extend({
    kind: z.literal("token_expiring").describe("An active API token expires within `within`"),
    within: Duration.default("14d"),
  }),
]);
export type AlertRule = z.infer<typeof AlertRule>;
export type AlertRuleInput = z.input<typeof AlertRule>;

export const AlertRuleSet = z.object({ rules: z.array(AlertRule).max(200) });
export type AlertRuleSet = z.infer<typeof AlertRuleSet>;

export const AlertRuleVersionDto = z.object({
  version: z.number().int().min(0).describe("0: the built-in defaults, never saved"),
  rules: z.array(AlertRule),
  author: z.string(),
  comment: z.string(),
  createdAt: z.string().nullable(),
});
export type AlertRuleVersionDto = z.infer<typeof AlertRuleVersionDto>;
