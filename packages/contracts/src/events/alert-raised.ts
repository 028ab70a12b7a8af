import { z } from "zod";
import { ResourceName } from "../identifiers.js";

export const ALERT_RAISED = "nexus.alert.raised" as const;

export const ALERT_SEVERITIES = ["critical", "error", "warning", "info"] as const;
export const AlertSeverity = z.enum(ALERT_SEVERITIES);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

/**
 * Identifies one alert across raise, repeat and resolve: the same fingerprint is the same alert
 * (the notifier deduplicates on it, PagerDuty gets it as `dedup_key`).
 */
export const AlertFingerprint = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_:.@/-]+$/, "must be letters, digits or _ : . @ / -");

/** Label names as in Prometheus, so Alertmanager alerts map one to one. */
export const AlertLabels = z
  .record(
    z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/, "label names are [a-zA-Z_][a-zA-Z0-9_]*"),
    z.string().max(1000),
  )
  .refine((l) => Object.keys(l).length <= 64, "at most 64 labels")
  .describe("e.g. service, namespace, environment, instance, kind");

export const AlertLink = z.object({
  title: z.string().min(1).max(200),
  url: z.url({ protocol: /^https?$/ }),
});
export type AlertLink = z.infer<typeof AlertLink>;

/** Fields an alert carries whether it is firing or resolved. */
export const AlertBody = z.object({
  schemaVersion: z.literal(1),
  fingerprint: AlertFingerprint,
  severity: AlertSeverity,
  summary: z.string().min(1).max(500).describe("What happened, in one line"),
  details: z.string().max(10_000).default("").describe("Longer explanation, plain text"),
  labels: AlertLabels.default({}),
  links: z.array(AlertLink).max(20).default([]).describe("Dashboard page, API resource, runbook"),
  source: ResourceName.describe("The service that raised it, e.g. `drift-detector`, `monitor`"),
  actionTaken: z
    .string()
    .max(1_000)
    .optional()
    .describe("What Nexus already did about it (e.g. `sent a resync command to 3 instances`)"),
  startsAt: z.iso.datetime({ offset: true }),
});

/** Something is wrong and people should hear about it (the notifier routes it). */
export const AlertRaised = AlertBody;
export type AlertRaised = z.infer<typeof AlertRaised>;

export const alertRaisedSubject = (d: Pick<AlertRaised, "severity" | "source">) =>
  `${ALERT_RAISED}.${d.source}.${d.severity}`;
