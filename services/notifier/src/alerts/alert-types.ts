import { AlertLink, AlertSeverity } from "@nexus/contracts";
import { z } from "zod";

/** The one alert model everything is mapped onto: bus events, Alertmanager alerts, notices. */
export interface AlertInput {
  fingerprint: string;
  /** `notice`: a one-off message (config.changed) that is sent once and never resolves. */
  status: "firing" | "resolved" | "notice";
  /** The event it came from, also the `event_type` label routes match on. */
  eventType: string;
  severity: AlertSeverity;
  summary: string;
  details: string;
  labels: Record<string, string>;
  links: AlertLink[];
  source: string;
  actionTaken?: string | undefined;
  startsAt: string;
  endsAt?: string | null | undefined;
}

export const AlertDto = z.object({
  fingerprint: z.string(),
  status: z.enum(["firing", "resolved", "notice"]),
  eventType: z.string(),
  severity: AlertSeverity,
  summary: z.string(),
  details: z.string(),
  labels: z.record(z.string(), z.string()),
  links: z.array(AlertLink),
  source: z.string(),
  actionTaken: z.string().nullable(),
  startsAt: z.string(),
  endsAt: z.string().nullable(),
  lastReceivedAt: z.string(),
  receivedCount: z.number().int(),
  ack: z.object({ by: z.string(), at: z.string(), comment: z.string() }).nullable(),
});
export type AlertDto = z.infer<typeof AlertDto>;

export const AlertHistoryEntry = z.object({
  kind: z.string(),
  at: z.string(),
  actor: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});
