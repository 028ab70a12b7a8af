/** Prometheus Alertmanager's webhook payload (version 4) and its mapping onto our alert model. No I/O. */
import type { AlertSeverity } from "@nexus/contracts";
import { z } from "zod";
import type { AlertInput } from "../alerts/alert-types.js";

const LabelMap = z.record(
  z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "label names are [a-zA-Z_][a-zA-Z0-9_]*"),
  z.string().max(10_000),
);

export const AlertmanagerAlert = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: LabelMap,
  annotations: z.record(z.string(), z.string().max(10_000)).default({}),
  startsAt: z.iso.datetime({ offset: true }),
  endsAt: z.string().default(""),
  generatorURL: z.string().max(4000).default(""),
  fingerprint: z.string().regex(/^[A-Za-z0-9]{1,64}$/, "must be Alertmanager's hex fingerprint"),
});

export const AlertmanagerPayload = z.object({
  version: z.literal("4"),
  groupKey: z.string().max(10_000),
  truncatedAlerts: z.number().int().min(0).default(0),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().max(1000),
  groupLabels: LabelMap.default({}),
  commonLabels: LabelMap.default({}),
  commonAnnotations: z.record(z.string(), z.string()).default({}),
  externalURL: z.string().max(4000).default(""),
  alerts: z.array(AlertmanagerAlert).min(1).max(1000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

const SEVERITIES: Record<string, AlertSeverity> = {
  critical: "critical",
  page: "critical",
  error: "error",
  high: "error",
  warning: "warning",
  warn: "warning",
  info: "info",
  none: "info",
};

/** Alertmanager's `severity` label in our four levels; unknown or missing is a warning. */
export const severityOf = (label: string | undefined): AlertSeverity =>
  SEVERITIES[(label ?? "").toLowerCase()] ?? "warning";

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
};

/** Zero time (`0001-01-01T00:00:00Z`) means "still firing". */
const realTime = (s: string) =>
  s && !s.startsWith("0001-") && !Number.isNaN(Date.parse(s)) ? new Date(s).toISOString() : null;

export function alertsFromAlertmanager(payload: AlertmanagerPayload): AlertInput[] {
  return payload.alerts.map((a) => {
    const severity = severityOf(a.labels.severity);
    const links = [
      ...(isHttpUrl(a.generatorURL) ? [{ title: "Source (Prometheus)", url: a.generatorURL }] : []),
      ...(a.annotations.runbook_url && isHttpUrl(a.annotations.runbook_url)
        ? [{ title: "Runbook", url: a.annotations.runbook_url }]
        : []),
      ...(isHttpUrl(payload.externalURL) ? [{ title: "Alertmanager", url: payload.externalURL }] : []),
    ];
    const name = a.labels.alertname ?? "alert";
    return {
      fingerprint: `alertmanager:${a.fingerprint}`,
      status: a.status,
      eventType: "alertmanager",
      severity,
      summary: (a.annotations.summary ?? a.annotations.description ?? name).slice(0, 500),
      details: (a.annotations.description ?? "").slice(0, 10_000),
      labels: { ...a.labels, severity, event_type: "alertmanager", source: "alertmanager" },
      links,
      source: "alertmanager",
      startsAt: new Date(a.startsAt).toISOString(),
      endsAt: a.status === "resolved" ? (realTime(a.endsAt) ?? null) : null,
    };
  });
}
