import type { AlertSeverity, DriftKind } from "@nexus/contracts";

/** A rule's condition that holds now for one subject (service, instance, dependency, finding). */
export interface Condition {
  fingerprint: string;
  rule: string;
  severity: AlertSeverity;
  summary: string;
  details: string;
  labels: Record<string, string>;
  /** How long it must hold before firing. */
  forMs: number;
}

export type AlertStatus = "pending" | "firing" | "resolved";

export interface AlertState {
  fingerprint: string;
  rule: string;
  status: AlertStatus;
  severity: AlertSeverity;
  summary: string;
  labels: Record<string, string>;
  activeSince: Date;
  firedAt: Date | null;
  resolvedAt: Date | null;
}

export interface OpenFinding {
  findingId: string;
  kind: DriftKind;
  namespace: string;
  environment: string;
  severity: string;
  summary: string;
  openedAt: Date;
}

/** What one evaluation pass decides. */
export interface TransitionPlan {
  /** New conditions that must hold for a while first. */
  pending: Array<Condition & { activeSince: Date }>;
  /** Start firing now: announce with alert.raised. */
  fire: Array<Condition & { activeSince: Date }>;
  /** Stopped firing: announce with alert.resolved. */
  resolve: AlertState[];
  /** Pending alerts whose condition cleared before firing: forgotten silently. */
  drop: AlertState[];
}

/** An active API token with an expiry, as the registry lists them (never its value). */
export interface ExpiringToken {
  id: string;
  name: string;
  owner: string;
  expiresAt: Date;
}

/** What a TLS endpoint presented when last asked. */
export interface SeenCertificate {
  endpoint: string;
  validTo: Date;
  subject: string;
  issuer: string;
}
