/**
 * Bus events as alerts: one small mapping per event type. Consuming a new event type (the
 * orchestrator's `pipeline.*` and `job.*`, the backup service's `backup.*`) is one more entry in
 * EVENT_MAPPINGS once its contract exists. No I/O.
 */
import {
  ALERT_RAISED,
  ALERT_RESOLVED,
  type AlertLink,
  CONFIG_CHANGED,
  DRIFT_DETECTED,
  DRIFT_ESCALATED,
  DRIFT_RESOLVED,
  type DriftFinding,
  type EventData,
  type EventType,
  POLICY_VIOLATED,
} from "@nexus/contracts";
import type { AlertInput } from "../alerts/alert-types.js";
import { JOB_MAPPINGS } from "./job-alert-fns.js";
import { PIPELINE_MAPPINGS } from "./pipeline-alert-fns.js";

/** Where people can look: the dashboard and the registry's API, when configured. */
export interface LinkBases {
  dashboardUrl?: string | undefined;
  registryUrl?: string | undefined;
}

/** What a mapping may use besides the data: link bases and the event's CloudEvents `time`. */
export interface MappingContext {
  links: LinkBases;
  time: string;
}

type Mapper<T extends EventType> = (data: EventData<T>, ctx: MappingContext) => AlertInput;
type MappingTable = { [T in EventType]?: Mapper<T> };

const withoutUndefined = (labels: Record<string, string | null | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === "string" && e[1] !== ""),
  );

/** Dashboard and API links for one (namespace, environment). */
export function namespaceLinks(links: LinkBases, namespace: string, environment: string): AlertLink[] {
  const out: AlertLink[] = [];
  if (links.dashboardUrl) {
    out.push({
      title: "Dashboard",
      url: `${links.dashboardUrl}/namespaces/${namespace}?environment=${environment}`,
    });
  }
  if (links.registryUrl) {
    out.push({
      title: "Resolved config (API)",
      url: `${links.registryUrl}/v1/namespaces/${namespace}/resolved/${environment}`,
    });
  }
  return out;
}

const KIND_WORDS: Record<DriftFinding["kind"], string> = {
  stale: "instances run an older revision",
  rejected: "an instance rejected a revision",
  divergent: "an instance runs content that differs from its revision",
  source: "registry content differs from its Git source",
  policy: "the configuration breaks a policy",
};

/** A drift finding as an alert; raise, escalation and resolve share `drift:<findingId>`. */
function driftAlert(d: DriftFinding, ctx: MappingContext, status: "firing" | "resolved"): AlertInput {
  const instance = d.instanceIds.length === 1 ? d.instanceIds[0] : undefined;
  const expected = d.expected.revision ?? "?";
  const actual = d.actual.revision ?? "?";
  return {
    fingerprint: `drift:${d.findingId}`,
    status,
    eventType: d.kind === "policy" ? "policy" : "drift",
    severity: d.severity,
    summary: d.summary.slice(0, 500),
    details: [
      `Drift (${d.kind}): ${KIND_WORDS[d.kind]}.`,
      d.instanceIds.length
        ? `Instances: ${d.instanceIds.slice(0, 20).join(", ")}${d.instanceIds.length > 20 ? ", ..." : ""}.`
        : "",
      d.kind === "policy" ? "" : `Expected revision ${expected}, found ${actual}.`,
      d.reason ? `Reason given: ${d.reason}` : "",
    ]
      .filter(Boolean)
      .join("\n"),
    labels: withoutUndefined({
      namespace: d.namespace,
      environment: d.environment,
      service: d.service ?? undefined,
      instance: instance,
      kind: d.kind,
      severity: d.severity,
      source: "drift-detector",
    }),
    links: namespaceLinks(ctx.links, d.namespace, d.environment),
    source: "drift-detector",
    startsAt: d.firstSeenAt,
  };
}

/** The `event_type` label of a change notice (what a route names to ask for them). */
export const CHANGE_NOTICE_LABEL = "config.changed";

export const EVENT_MAPPINGS: MappingTable = {
  [DRIFT_DETECTED]: (d, ctx) => driftAlert(d, ctx, "firing"),
  [DRIFT_ESCALATED]: (d, ctx) => ({
    ...driftAlert(d, ctx, "firing"),
    actionTaken: `Nexus tried to repair it ${d.attempts} time(s) by resyncing the instances, without success, and stopped retrying (severity raised from ${d.previousSeverity}).`,
  }),
  [POLICY_VIOLATED]: (d, ctx) => {
    const alert = driftAlert(d, ctx, "firing");
    const rules = d.violations.map((v) => `${v.policyName}: ${v.path} ${v.message}`).slice(0, 20);
    return { ...alert, details: `${alert.details}\nBroken rules:\n${rules.join("\n")}` };
  },
  [DRIFT_RESOLVED]: (d, ctx) => ({
    ...driftAlert(d, ctx, "resolved"),
    endsAt: d.resolvedAt,
    actionTaken: d.resolution,
  }),
  [ALERT_RAISED]: (d) => ({
    ...d,
    status: "firing",
    eventType: "alert",
    labels: { ...d.labels, severity: d.severity, source: d.source },
  }),
  [ALERT_RESOLVED]: (d) => ({
    ...d,
    status: "resolved",
    eventType: "alert",
    labels: { ...d.labels, severity: d.severity, source: d.source },
  }),
  [CONFIG_CHANGED]: (d, { links, time }) => ({
    fingerprint: `config.changed:${d.namespace}:${d.environment}:${d.revision}:${d.hash.slice(0, 12)}`,
    status: "notice",
    eventType: CHANGE_NOTICE_LABEL,
    severity: "info",
    summary: `Configuration of ${d.namespace} changed in ${d.environment} (revision ${d.revision})`,
    details: [
      `${d.actor} changed ${d.changedPaths.length} key(s) through ${d.source} (${d.trigger}, layer ${d.layer}).`,
      d.changedPaths.length ? `Changed: ${d.changedPaths.slice(0, 20).join(", ")}` : "",
    ]
      .filter(Boolean)
      .join("\n"),
    labels: withoutUndefined({
      namespace: d.namespace,
      environment: d.environment,
      severity: "info",
      source: "config-registry",
    }),
    links: namespaceLinks(links, d.namespace, d.environment),
    source: "config-registry",
    actionTaken: "Nexus told the running instances about the change.",
    startsAt: time,
  }),
  ...PIPELINE_MAPPINGS,
  ...JOB_MAPPINGS,
};

export const mappedEventTypes = (): EventType[] => Object.keys(EVENT_MAPPINGS) as EventType[];

/**
 * The alert for an event, with `event_type` set as a label routes can match. A raise and its
 * resolve share the event type (`alert`, `drift`, ...) so both take the same route.
 */
export function alertFromEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  ctx: MappingContext,
): AlertInput | null {
  const mapper = EVENT_MAPPINGS[type] as Mapper<T> | undefined;
  if (!mapper) return null;
  const alert = mapper(data, ctx);
  return { ...alert, labels: { ...alert.labels, event_type: alert.eventType } };
}
