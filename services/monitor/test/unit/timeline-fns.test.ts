import type { RevisionRecordDto } from "@nexus/contracts";
import { describe, expect, it } from "vitest";
import {
  configNoticeFingerprint,
  fingerprintsOf,
  noteMissing,
  timelineOf,
} from "../../src/timeline/timeline-fns.js";

const hash = "a".repeat(64);
const record: RevisionRecordDto = {
  namespace: "shop",
  revision: 7,
  layer: "staging",
  hash,
  author: "alice",
  message: "more replicas",
  source: "api",
  createdAt: "2026-01-01T00:00:00.000Z",
  traceId: null,
  events: [
    {
      eventId: "e1",
      environment: "staging",
      hash,
      trigger: "write",
      writtenAt: "2026-01-01T00:00:00.000Z",
      publishedAt: "2026-01-01T00:00:00.050Z",
    },
  ],
};

describe("the timeline of a revision", () => {
  it("merges every service's answer in time order, keeping cause before effect at the same instant", () => {
    const steps = timelineOf({
      record,
      reports: [
        {
          namespace: "shop",
          environment: "staging",
          revision: 7,
          learntAt: "2026-01-01T00:00:00.060Z",
          reports: [
            { instanceId: "b", service: "api", status: "applied", reportedAt: "2026-01-01T00:00:00.200Z" },
            { instanceId: "a", service: "api", status: "rejected", reportedAt: "2026-01-01T00:00:00.100Z" },
          ],
          findings: [
            {
              id: "f1",
              kind: "rejected",
              severity: "warning",
              status: "resolved",
              summary: "a rejected 7",
              firstSeenAt: "2026-01-01T00:00:00.100Z",
              resolvedAt: "2026-01-01T00:01:00.000Z",
            },
          ],
        },
      ],
      deliveries: [
        {
          id: "d1",
          receiver: "hook",
          status: "dead",
          title: "shop changed",
          fingerprints: [],
          createdAt: "2026-01-01T00:00:00.300Z",
          deliveredAt: null,
          updatedAt: "2026-01-01T00:00:05.000Z",
          deadReason: "410 Gone",
        },
      ],
      runs: [],
    });
    expect(steps.map((s) => s.kind)).toEqual([
      "written",
      "published",
      "learnt",
      "rejected",
      "drift-found",
      "applied",
      "notification-queued",
      "notification-failed",
      "drift-resolved",
    ]);
    expect(steps[0]?.text).toBe('alice wrote layer staging through api: "more replicas"');
    expect(steps[3]).toMatchObject({ instance: "a", environment: "staging", text: "a (api) rejected it" });
    expect(steps[7]?.text).toBe("notification to hook failed: 410 Gone");
  });

  it("says when an event is written but not yet published", () => {
    const steps = timelineOf({
      record: { ...record, events: [{ ...record.events[0]!, publishedAt: null }] },
      reports: [],
      deliveries: [],
      runs: [],
    });
    expect(steps[1]?.text).toBe("config.changed for staging is written and not yet published");
  });

  it("asks the notifier for the change notices and every finding's alert", () => {
    expect(
      fingerprintsOf({
        record,
        reports: [
          {
            namespace: "shop",
            environment: "staging",
            revision: 7,
            learntAt: null,
            reports: [],
            findings: [
              {
                id: "f1",
                kind: "stale",
                severity: "warning",
                status: "open",
                summary: "",
                firstSeenAt: record.createdAt,
                resolvedAt: null,
              },
            ],
          },
        ],
      }),
    ).toEqual([configNoticeFingerprint("shop", "staging", 7, hash), "drift:f1"]);
    expect(configNoticeFingerprint("shop", "staging", 7, hash)).toBe(
      `config.changed:shop:staging:7:${"a".repeat(12)}`,
    );
  });
});

describe("noteMissing", () => {
  it("names each service once, however many of its parts could not be asked", () => {
    const missing: { service: string; reason: string }[] = [];
    for (let i = 0; i < 3; i++) noteMissing(missing, "notifier", "the monitor has no URL for it");
    noteMissing(missing, "drift-detector", "503 drift_detector_unavailable: down");
    noteMissing(missing, "drift-detector", "403 forbidden: not yours");
    noteMissing(missing, "drift-detector", "503 drift_detector_unavailable: down");
    expect(missing).toEqual([
      { service: "notifier", reason: "the monitor has no URL for it" },
      { service: "drift-detector", reason: "503 drift_detector_unavailable: down; 403 forbidden: not yours" },
    ]);
  });
});
