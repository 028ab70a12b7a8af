import type { RevisionRecordDto, RevisionReportsDto } from "@nexus/contracts";

/** A notifier delivery as the timeline needs it (the notifier's `GET /v1/deliveries` item). */
export interface DeliveryInfo {
  id: string;
  receiver: string;
  status: string;
  title: string;
  fingerprints: string[];
  createdAt: string;
  deliveredAt: string | null;
  updatedAt: string;
  deadReason: string | null;
}

/** An orchestrator run with its steps (the orchestrator's `GET /v1/runs/{id}`). */
export interface RunInfo {
  id: string;
  pipeline: string;
  source: string;
  target: string;
  status: string;
  trigger: string;
  startedBy: string;
  promotedRevision: number | null;
  failure: string | null;
  createdAt: string;
  finishedAt: string | null;
  steps: Array<{
    index: number;
    name: string;
    type: string;
    status: string;
    attempts: number;
    summary: string | null;
    startedAt: string | null;
    finishedAt: string | null;
  }>;
}

/** What each service answered about one revision; a part absent when its service could not say. */
export interface TimelineParts {
  record: RevisionRecordDto;
  reports: RevisionReportsDto[];
  deliveries: DeliveryInfo[];
  runs: RunInfo[];
}
