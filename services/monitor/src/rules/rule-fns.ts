import type { AlertRule, AlertRuleInput } from "./rule-types.js";
import { AlertRule as AlertRuleSchema } from "./rule-types.js";

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `5m` → 300000. The schema has checked the shape. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** `*` matches any run of characters; everything else is literal. */
export function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map(escapeRe).join(".*")}$`);
  return re.test(value);
}
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export interface RuleProblem {
  message: string;
  field: string;
}

/** What the schema cannot say: names unique in the set. */
export function findRuleSetProblem(rules: readonly AlertRule[]): RuleProblem | null {
  const seen = new Map<string, number>();
  for (const [i, rule] of rules.entries()) {
    const first = seen.get(rule.name);
    if (first !== undefined)
      return {
        message: `rule name "${rule.name}" is used by rules ${first} and ${i}`,
        field: `rules.${i}.name`,
      };
    seen.set(rule.name, i);
  }
  return null;
}

const DEFAULT_RULES: AlertRuleInput[] = [
  { name: "service-down", kind: "service_down", severity: "critical", for: "30s" },
  { name: "instance-down", kind: "instance_down", severity: "error", for: "30s" },
  { name: "dependency-down", kind: "dependency_down", severity: "error", for: "1m" },
  { name: "outbox-backlog", kind: "outbox_backlog", severity: "warning", threshold: 1_000, for: "5m" },
  { name: "consumer-lag", kind: "consumer_lag", severity: "warning", threshold: 10_000, for: "5m" },
  { name: "dead-letters", kind: "dead_letters", severity: "warning", threshold: 0, for: "0s" },
  { name: "drift-finding-open", kind: "drift_finding_open", severity: "warning", olderThan: "1h" },
  { name: "backup-failed", kind: "backup_failed", severity: "error" },
  // Incrementals run every 15 minutes: two missed in a row. A full runs daily: two hours' slack.
  {
    name: "backup-overdue-incremental",
    kind: "backup_overdue",
    backupKind: "incremental",
    within: "30m",
    severity: "warning",
  },
  {
    name: "backup-overdue-full",
    kind: "backup_overdue",
    backupKind: "full",
    within: "26h",
    severity: "error",
  },
  { name: "token-expiring", kind: "token_expiring", within: "14d", severity: "warning" },
  // Over 5 minutes of traffic, held for 5 more: a burst of errors during a deploy is not an outage.
  {
    name: "slo-error-rate",
    kind: "slo_error_rate",
    threshold: 0.05,
    window: "5m",
    for: "5m",
    severity: "error",
  },
  {
    name: "slo-latency",
    kind: "slo_latency",
    threshold: 1_000,
    window: "5m",
    for: "5m",
    severity: "warning",
  },
  // The monitor's alone: the orchestrator exports no per-pipeline outcome series for Prometheus.
  { name: "pipeline-failed", kind: "pipeline_failed", severity: "error" },
];

/** In force until someone saves a rule set (the same rules as infra/prometheus/nexus-rules.yml). */
export const defaultRules = (): AlertRule[] => DEFAULT_RULES.map((r) => AlertRuleSchema.parse(r));
