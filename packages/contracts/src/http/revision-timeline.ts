import { z } from "zod";

/**
 * What happened to one revision, end to end (`nexus trace`, the monitor's
 * `GET /v1/namespaces/{ns}/revisions/{n}/timeline`). Each service answers for what it stores;
 * the monitor asks them with the caller's own token and merges the answers into one timeline.
 */

const Timestamp = z.string().describe("ISO 8601");

/** One `config.changed` a revision caused, as the registry's outbox keeps it. */
export const RevisionEventDto = z.object({
  eventId: z.string(),
  environment: z.string(),
  hash: z.string(),
  trigger: z.string().describe("`write`, `rollback`, `variables`, `dependency`"),
  writtenAt: Timestamp.describe("When the event committed with the change"),
  publishedAt: Timestamp.nullable().describe(
    "When the outbox relay recorded JetStream's ack (stamped in batches, up to ~100 ms after it); null: not yet",
  ),
});
export type RevisionEventDto = z.infer<typeof RevisionEventDto>;

/** One layer revision without its content and diff: the registry's revision lists, the dashboard's. */
export const RevisionSummaryDto = z.object({
  namespace: z.string(),
  revision: z.number().int(),
  layer: z.string(),
  hash: z.string(),
  author: z.string(),
  message: z.string(),
  source: z.string(),
  createdAt: z.string(),
});
export type RevisionSummaryDto = z.infer<typeof RevisionSummaryDto>;

/** The registry's `GET /v1/namespaces/{ns}/revisions/{n}`: who wrote it, and what it published. */
export const RevisionRecordDto = RevisionSummaryDto.extend({
  createdAt: Timestamp,
  traceId: z
    .string()
    .nullable()
    .describe("The OpenTelemetry trace of the write (from its events' traceparent), when traced"),
  events: z
    .array(RevisionEventDto)
    .describe("Its config.changed events in environments the caller may view (kept 7 days)"),
}).meta({ id: "RevisionRecord" });
export type RevisionRecordDto = z.infer<typeof RevisionRecordDto>;

/** The drift-detector's view of one revision in one environment. */
export const RevisionReportsDto = z
  .object({
    namespace: z.string(),
    environment: z.string(),
    revision: z.number().int(),
    learntAt: Timestamp.nullable().describe(
      "When the drift-detector processed the revision's config.changed (null: not yet, or no event ids given)",
    ),
    reports: z.array(
      z.object({
        instanceId: z.string(),
        service: z.string().nullable(),
        status: z.enum(["applied", "rejected"]),
        reportedAt: Timestamp,
      }),
    ),
    findings: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        severity: z.string(),
        status: z.string(),
        summary: z.string(),
        firstSeenAt: Timestamp,
        resolvedAt: Timestamp.nullable(),
      }),
    ),
  })
  .meta({ id: "RevisionReports" });
export type RevisionReportsDto = z.infer<typeof RevisionReportsDto>;

export const TimelineStepKind = z.enum([
  "written",
  "published",
  "learnt",
  "applied",
  "rejected",
  "drift-found",
  "drift-resolved",
  "notification-queued",
  "notified",
  "notification-failed",
  "run-started",
  "run-step",
  "run-finished",
]);
export type TimelineStepKind = z.infer<typeof TimelineStepKind>;

export const TimelineStep = z.object({
  at: Timestamp,
  kind: TimelineStepKind,
  service: z.string().describe("The service that recorded the step"),
  environment: z.string().nullable(),
  instance: z.string().nullable().describe("The consuming instance, for applied and rejected"),
  text: z.string().describe("What happened, in plain words"),
});
export type TimelineStep = z.infer<typeof TimelineStep>;

/** The monitor's answer: every step in time order, and which services could not say. */
export const RevisionTimelineDto = z
  .object({
    namespace: z.string(),
    revision: z.number().int(),
    layer: z.string(),
    author: z.string(),
    traceId: z.string().nullable(),
    steps: z.array(TimelineStep),
    missing: z
      .array(z.object({ service: z.string(), reason: z.string() }))
      .describe("Parts left out: a service not configured, not answering, or refusing the caller"),
  })
  .meta({ id: "RevisionTimeline" });
export type RevisionTimelineDto = z.infer<typeof RevisionTimelineDto>;
