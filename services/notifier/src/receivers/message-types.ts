import type { AlertLink, AlertSeverity } from "@nexus/contracts";

/** One alert as a message shows it (a snapshot taken when the notification was decided). */
export interface MessageAlert {
  fingerprint: string;
  status: "firing" | "resolved" | "notice";
  eventType: string;
  severity: AlertSeverity;
  summary: string;
  details: string;
  labels: Record<string, string>;
  links: AlertLink[];
  source: string;
  actionTaken: string | null;
  startsAt: string;
  endsAt: string | null;
}

/** What one delivery sends; stored with the delivery so a re-send says exactly the same. */
export interface NotificationMessage {
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  alerts: MessageAlert[];
  /** PagerDuty only: acknowledged by whom (action `acknowledge`). */
  ackedBy?: string | undefined;
}

/** `notify` for grouped messages; PagerDuty's event actions for per-alert deliveries. */
export type DeliveryAction = "notify" | "trigger" | "resolve" | "acknowledge";
